#!/usr/bin/env bash
# macOS type-check gate: `cargo check --workspace --all-targets` for aarch64-apple-darwin and
# x86_64-apple-darwin, with std built from source by Debian's rustc-web toolchain (installed by
# scripts/setup macos). Fails on any error, and on any warning in vmbar's own crates.
# Nothing is linked (no macOS SDK here): build scripts that compile C get a stand-in compiler
# (scripts/macos/cc). Clippy for macOS is not available this way; the real bundle is built by
# .github/workflows/macos.yml on a macOS runner.
# Cold: about 10-12 minutes on 2 cores (std and every dependency for two targets); warm: seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd -P)  # physical: cargo's package ids carry the real path
if [ ! -x /usr/bin/cargo ] || [ ! -d /usr/lib/rustlib/src/rust/library ] || ! /usr/bin/rustc --version | grep -q '^rustc 1\.'; then
  msg="Debian's rustc-web toolchain with rust-web-src is not installed (run scripts/setup macos)"
  if [ "${VMBAR_REQUIRE_PRIVILEGED:-}" = 1 ]; then echo "FAIL: $msg"; exit 1; fi
  echo "SKIPPED: $msg"; exit 0
fi
targets=(aarch64-apple-darwin x86_64-apple-darwin)
# Debian's toolchain by full path: rustup's cargo comes first on PATH and its compiler cannot
# build Debian's std source.
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
unset RUSTC_WRAPPER RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}/macos-check"
export SDKROOT="${SDKROOT:-/nonexistent-macos-sdk}"
for t in "${targets[@]}"; do
  v=${t//-/_}
  export "CC_$v=$root/scripts/macos/cc" "CXX_$v=$root/scripts/macos/cc" "AR_$v=ar"
done
log=$(mktemp); trap 'rm -f "$log"' EXIT
args=(); for t in "${targets[@]}"; do args+=(--target "$t"); done
echo "macos: /usr/bin/cargo check --locked --workspace --all-targets ${args[*]} -Zbuild-std=std,panic_abort ($(/usr/bin/rustc --version))"
set +e
/usr/bin/cargo check --locked --workspace --all-targets "${args[@]}" -Zbuild-std=std,panic_abort \
  --message-format=json-diagnostic-rendered-ansi >"$log"
rc=$?
set -e
# Our crates are the workspace members (path packages under this checkout).
jq -r --arg root "path+file://$root" '
  select(.reason == "compiler-message" and (.package_id | startswith($root)))
  | .message | select(.level == "error" or .level == "warning") | .rendered' "$log" \
  | sed 's/\x1b\[[0-9;]*m//g' > "$log.ours" || true
errors=$(jq -r 'select(.reason == "compiler-message") | .message | select(.level == "error") | .rendered' "$log" | sed 's/\x1b\[[0-9;]*m//g')
cat "$log.ours"
[ -n "$errors" ] && [ ! -s "$log.ours" ] && printf '%s\n' "$errors"
warnings=$(grep -c '^warning' "$log.ours" || true)
nerr=$(grep -E '^error' "$log.ours" | grep -vc 'aborting due to' || true)
rm -f "$log.ours"
if [ "$rc" -ne 0 ]; then
  [ -n "$errors" ] || jq -r 'select(.reason == "build-script-executed" | not) | select(.reason == null) ' "$log" 2>/dev/null | tail -20
  echo "macos: FAILED: cargo check exited $rc ($nerr errors in vmbar's crates)"; exit 1
fi
if [ "$warnings" -gt 0 ]; then
  echo "macos: FAILED: $warnings warnings in vmbar's crates (the gate allows none)"; exit 1
fi
echo "macos: OK: the workspace type-checks for ${targets[*]} (all targets, 0 warnings in vmbar's crates)"
