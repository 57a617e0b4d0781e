#!/usr/bin/env bash
# Tray app (src-tauri/, ui/): the WebKitGTK + AppIndicator build dependencies of Tauri v2, and what
# its end-to-end test needs: Xvfb, a private D-Bus session, xclip (clipboard read-back),
# WebKitWebDriver, python3-dbus/gi (stand-in StatusNotifierWatcher and notification server),
# imagemagick (the README screenshot), iproute2 (network namespaces), Node.js (node --test).
set -euo pipefail
apt_install libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libssl-dev \
  build-essential pkg-config file \
  xvfb xauth xclip webkit2gtk-driver dbus dbus-x11 python3-dbus python3-gi imagemagick iproute2 procps \
  fonts-dejavu-core
command -v node >/dev/null || apt_install nodejs
pkg-config --exists webkit2gtk-4.1 ayatana-appindicator3-0.1
node --version
