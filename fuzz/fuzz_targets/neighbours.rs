//! Neighbour-table parsers: the output of `/proc/net/arp`, `ip neigh`,
//! `arp -an` (net-tools, macOS), `ndp -an`, `ip -j neigh`, or whatever the
//! configured `[neighbours] command` prints.
//!
//! Entry points are the engine's: [`neighbours::parse`] (format detection,
//! used for command output) and [`neighbours::parse_as`] for each format
//! (`/proc/net/arp` is read with `parse_as(.., ProcNetArp)`), then the
//! lookups the status rules make. Properties: no panic, and every address
//! returned for a MAC is a usable VM IPv4 that the table maps to that MAC.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vmbar_engine::addr::is_usable_vm_ipv4;
use vmbar_engine::neighbours::{self, NeighbourFormat, NeighbourTable};

const FORMATS: [NeighbourFormat; 7] = [
    NeighbourFormat::ProcNetArp,
    NeighbourFormat::IpNeigh,
    NeighbourFormat::LinuxArpAn,
    NeighbourFormat::LinuxArpTable,
    NeighbourFormat::MacosArp,
    NeighbourFormat::MacosNdp,
    NeighbourFormat::IpNeighJson,
];

fn check(t: &NeighbourTable) {
    // Bounded: lookups per entry would make the target itself quadratic.
    for e in t.entries.iter().take(32) {
        if let Some(mac) = e.mac {
            for ip in t.ipv4_for(mac) {
                assert!(is_usable_vm_ipv4(ip), "{ip} offered for {mac}");
                assert!(t.macs_for(ip).contains(&mac), "{ip} offered for {mac} but macs_for disagrees");
            }
            let _ = t.unique_ipv4_for(mac);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The engine reads command output with from_utf8_lossy.
    let text = String::from_utf8_lossy(data);
    let detected = neighbours::parse(&text);
    if let Some(f) = detected.format {
        assert_eq!(neighbours::parse_as(&text, f), detected);
    }
    check(&detected);
    for f in FORMATS {
        check(&neighbours::parse_as(&text, f));
    }
});
