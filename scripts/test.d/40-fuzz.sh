#!/usr/bin/env bash
# Fuzzes each parser that reads untrusted input for a bounded time (VMBAR_FUZZ_SECONDS,
# default 45 s each) and prints the number of executions per target. Seeds: the samples in
# ../shared/corpus/ (when present) plus generated hostile seeds; new inputs go to fuzz/corpus/.
# Longer by hand: VMBAR_FUZZ_SECONDS=3600 scripts/test.d/40-fuzz.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${VMBAR_FUZZ_SECONDS:-45}
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(console neighbours leases registry route_sysctl)
shared=../shared/corpus/samples
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz missing: run scripts/setup fuzz"; exit 1
fi
seeds=$(mktemp -d)
# The registry target writes into /dev/shm/vmbar-fuzz-registry-PID (libFuzzer exits without unwinding).
trap 'rm -rf "$seeds" /dev/shm/vmbar-fuzz-registry-* /tmp/vmbar-fuzz-registry-*' EXIT
for t in console neighbours leases registry route_sysctl; do mkdir -p "$seeds/$t" "fuzz/corpus/$t"; done
if [ -d "$shared" ]; then
  cp "$shared"/console-* "$shared"/journal-cloudinit-* "$shared"/syslog-* "$shared"/table-* "$seeds/console/" 2>/dev/null || true
  cp "$shared"/arp-* "$shared"/ip-neigh-* "$shared"/proc-net-arp-* "$seeds/neighbours/" 2>/dev/null || true
  cp "$shared"/dhcpd_leases-* "$shared"/libvirt-dnsmasq-* "$shared"/journal-dnsmasq-* "$seeds/leases/" 2>/dev/null || true
  find "$shared" -name '*.json' -exec cp {} "$seeds/registry/" \; 2>/dev/null || true
else
  echo "note: $shared not found; fuzzing from generated seeds only"
fi
# Hostile seeds the samples do not cover.
printf 'ci-info: | eth0 | True | 10.0.0.5 | 255.255.255.0 | global | 52:54:00:12:34:56 |\n\033]0;pwn\007\033[2J' > "$seeds/console/escapes"
printf '{"vms":{"a b":{"ip_address":"10.0.0.1","mac_address":"52:54:00:12:34:56","x":[1,{"y":2}]},"$(id)":{}},"other":1.50}' > "$seeds/registry/basic"
{ printf '%.0s[' $(seq 200); printf '%.0s]' $(seq 200); } > "$seeds/registry/deep"
printf '[{"dst":"10.0.0.2","dev":"virbr0","lladdr":"52:54:00:12:34:56","state":["STALE"]}]' > "$seeds/neighbours/json"
printf '1700000000 52:54:00:12:34:56 10.0.0.3 vm *\n' > "$seeds/leases/dnsmasq"
# route_sysctl: two routing messages as the macOS NET_RT_FLAGS/RTF_LLINFO sysctl returns them
# (rt_msghdr of 92 bytes: msglen, version 5, RTM_GET, index 7, flags, rtm_addrs DST|GATEWAY,
# rmx_expire 60 at offset 48; a sockaddr_in; a sockaddr_dl padded to 4 bytes): a complete entry
# with an unpadded 14-byte sockaddr_dl, and an incomplete one (sdl_alen 0) named bridge100.
rtmsg() {
  printf "\\x$1\\x00\\x05\\x04\\x07\\x00\\x00\\x00\\x05\\x04\\x00\\x00\\x03\\x00\\x00\\x00"; head -c 32 /dev/zero; printf '\x3c\x00\x00\x00'; head -c 40 /dev/zero
  printf "\\x10\\x02\\x00\\x00$2"; head -c 8 /dev/zero; printf "$3"
}
{ rtmsg 7c '\xc0\xa8\x40\x03' '\x0e\x12\x07\x00\x06\x00\x06\x00\x52\x54\x00\xa4\x0b\x55\x00\x00'
  rtmsg 80 '\xc0\xa8\x40\x09' '\x11\x12\x07\x00\x06\x09\x00\x00bridge100\x00\x00\x00'; } > "$seeds/route_sysctl/dump"

echo "fuzz: building the targets (engine crate only, nightly, sanitizer=address)"
cargo +nightly fuzz build -O >/dev/null
fail=0
for t in "${targets[@]}"; do
  log=$(mktemp)
  # -timeout: one input taking > 10 s is reported as a hang; -rss_limit_mb catches blow-ups.
  if cargo +nightly fuzz run -O "$t" "fuzz/corpus/$t" "$seeds/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' | tail -1)
    echo "fuzz $t: OK, ${runs:-?} executions in ${secs} s (corpus fuzz/corpus/$t: $(ls "fuzz/corpus/$t" | wc -l) inputs)"
  else
    echo "fuzz $t: FAILED"; tail -60 "$log"; fail=1
  fi
  rm -f "$log"
done
exit $fail
