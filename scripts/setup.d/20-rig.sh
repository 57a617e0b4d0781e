#!/usr/bin/env bash
# Real-VM rig (lab/): QEMU from bookworm-backports (bookworm's own qemu-system-x86 7.2 conflicts
# with the qemu-utils 10.x the image ships), dnsmasq-base (DHCP + DNS of the simulated router; the
# binary only: the `dnsmasq` package would also enable a system service in the root namespace),
# busybox-static and dropbear-bin (the guest's initramfs), iproute2 (namespaces, bridge, veth, taps),
# python3 (the rig and scenario runner, stdlib only). Then builds the guest under target/vmbar-lab/
# (kernel taken with apt-get download + dpkg-deb -x; nothing is installed into the host's /boot).
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=${SUDO:-}

# Add bookworm-backports on the same mirror as the existing Debian entries (deb822 or one-line).
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; then
  mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n1 | awk '{print $2}')
  [ -n "$mirror" ] || mirror=$(grep -hsE '^deb\s' /etc/apt/sources.list | grep -v security | awk '{print $2}' | head -n1)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  echo "adding bookworm-backports from $mirror"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" \
    | $SUDO tee /etc/apt/sources.list.d/vmbar-bookworm-backports.sources >/dev/null
  $SUDO apt-get update -q
fi

apt_install dnsmasq-base busybox-static dropbear-bin iproute2 python3 procps cpio gzip kmod xz-utils zstd
if ! command -v qemu-system-x86_64 >/dev/null; then
  i=0; until $SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports qemu-system-x86; do
    i=$((i+1)); [ $i -lt 5 ] || exit 1; sleep 5; $SUDO apt-get update -q || true; done
fi
qemu-system-x86_64 --version | head -n1

# Build (or reuse) the guest kernel + initramfs; needs the network only the first time.
python3 lab/guest.py build
