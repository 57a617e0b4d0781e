#!/usr/bin/env bash
# macOS type-check gate: Debian's second Rust toolchain (rustc-web, from bookworm-security) with the
# standard library's source, so that std can be built for the two Apple targets with -Zbuild-std
# (nothing is linked; rustup's toolchains cannot be given new targets here). It installs
# /usr/bin/cargo and /usr/bin/rustc beside rustup's; scripts/test.d/60-macos.sh calls them by path.
set -euo pipefail
apt_install rustc-web cargo-web rust-web-src jq
/usr/bin/rustc --version
test -d /usr/lib/rustlib/src/rust/library
