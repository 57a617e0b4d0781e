#!/usr/bin/env bash
# Tray app (src-tauri/, ui/): Rust unit tests, frontend tests (node --test), then the end-to-end
# test of the built app under Xvfb + a private D-Bus session, driven through WebKitWebDriver,
# in network namespaces it makes (root). It regenerates docs/screenshot.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! pkg-config --exists webkit2gtk-4.1 ayatana-appindicator3-0.1 2>/dev/null; then
  msg="WebKitGTK 4.1 / AppIndicator development files are not installed (run scripts/setup app)"
  if [ "${VMBAR_REQUIRE_PRIVILEGED:-}" = 1 ]; then echo "FAIL: $msg"; exit 1; fi
  echo "SKIPPED: $msg"; exit 0
fi
cargo test --locked -p vmbar-app
node --test ui/tests/*.test.mjs
cargo build --locked -p vmbar-app
/usr/bin/python3 src-tauri/tests/e2e/e2e.py --app "${CARGO_TARGET_DIR:-target}/debug/vmbar-app" --screenshot docs/screenshot.png
