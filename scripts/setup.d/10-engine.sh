#!/usr/bin/env bash
# Engine and CLI: a Rust toolchain (rustup), jq and a C compiler (the LD_PRELOAD window-writer shim)
# for the registry tests, iproute2 for namespace tests, bash, dash, zsh and fish for the
# typed-command tests (tests/typed_commands.rs types into each on a pty).
set -euo pipefail
command -v cargo >/dev/null || { echo "install Rust with rustup first (https://rustup.rs)"; exit 1; }
apt_install jq gcc libc6-dev iproute2 util-linux procps bash dash zsh fish
