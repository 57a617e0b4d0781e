#!/usr/bin/env bash
# Real-VM rig: boots QEMU VMs on a simulated LAN inside network namespaces (lab/) and checks that
# the vmbar CLI reports what really happens (10 scenarios, lab/scenarios.py). Needs root,
# /dev/net/tun, qemu-system-x86 and the guest tools (scripts/setup rig); otherwise every scenario
# prints SKIPPED with the reason (a failure under VMBAR_REQUIRE_PRIVILEGED=1).
# The measured delays go to the rig-delays section of BENCHMARKS.md (VMBAR_RIG_RECORD=0: not).
set -uo pipefail
cd "$(dirname "$0")/../.."
cargo build --locked -q -p vmbar-cli || { echo "rig: cargo build -p vmbar-cli failed"; echo "rig: 0 passed, 10 failed"; exit 1; }
record=(--record); [ "${VMBAR_RIG_RECORD:-1}" = 0 ] && record=()
# The runner has its own watchdog (VMBAR_RIG_TIMEOUT, default 540 s); this is the last resort.
timeout -k 10 720 python3 lab/scenarios.py "${record[@]}"
