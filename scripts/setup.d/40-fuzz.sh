#!/usr/bin/env bash
# Fuzzing: cargo-fuzz (libFuzzer) on the nightly toolchain; the targets live in fuzz/.
set -euo pipefail
command -v rustup >/dev/null || { echo "install Rust with rustup first (https://rustup.rs)"; exit 1; }
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
cargo fuzz --version
# The registry race test (crates/vmbar-cli/tests/registry_race.rs) needs jq and setpriv/runuser.
apt_install jq util-linux
