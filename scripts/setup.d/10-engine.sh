#!/usr/bin/env bash
# Engine and CLI: a Rust toolchain (rustup), jq for the registry tests, iproute2 for namespace tests.
set -euo pipefail
command -v cargo >/dev/null || { echo "install Rust with rustup first (https://rustup.rs)"; exit 1; }
apt_install jq iproute2 util-linux procps
