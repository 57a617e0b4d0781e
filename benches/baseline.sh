#!/usr/bin/env bash
# The reference to beat (not product code): the user's own detection, one shell pipeline per VM.
#
# Usage: benches/baseline.sh VMS_DIR
# Prints one line per VM folder: NAME STATUS IPV4 (STATUS is stopped, booting or running).
#
# Per VM, as the user does it today:
#   liveness       kill -0 of the pid in qemu.pid
#   console        grep -E over console.log for an IPv4 on the ci-info row of the VM's MAC
#   registry       jq -r ".vms[\"$name\"].ip_address" registry.json (and .mac_address)
#   neighbours     timeout 2 arp -a | grep MAC          (net-tools arp)
#   DNS            nslookup NAME | grep Address          (bind9-dnsutils)
#   SSH            nc -z -w 2 IP 22                       (netcat-openbsd)
# The first address found (console, neighbour table, DNS, registry) is the one checked with nc.
# Run it only inside a network namespace of the benchmark's own (benches/compare.py does).
set -u
vms=${1:?usage: baseline.sh VMS_DIR}
reg=$vms/registry.json
ipre='([0-9]{1,3}\.){3}[0-9]{1,3}'
for d in "$vms"/*/; do
  name=$(basename "$d")
  pid=$(cat "$d/qemu.pid" 2>/dev/null)
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then echo "$name stopped -"; continue; fi
  mac=$(jq -r ".vms[\"$name\"].mac_address" "$reg")
  console_ip=$(grep -E "ci-info: .*\| *$ipre .*$mac" "$d/console.log" | tail -n 1 | grep -Eo "$ipre" | head -n 1)
  reg_ip=$(jq -r ".vms[\"$name\"].ip_address" "$reg")
  arp_ip=$(timeout 2 arp -a | grep -i "$mac" | grep -Eo "$ipre" | head -n 1)
  dns_ip=$(nslookup "$name" | grep Address | tail -n +2 | grep -Eo "$ipre" | head -n 1)
  ip=${console_ip:-${arp_ip:-${dns_ip:-$reg_ip}}}
  if [ -n "$ip" ] && [ "$ip" != null ] && nc -z -w 2 "$ip" 22 2>/dev/null; then st=running; else st=booting; fi
  echo "$name $st ${ip:--}"
done
