#!/usr/bin/env bash
# Engine and CLI: unit tests, corpus tests and CLI integration tests.
set -euo pipefail
cargo test --locked -p vmbar-engine -p vmbar-cli
