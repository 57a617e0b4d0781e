//! The macOS neighbour table read without a process: the routing messages of
//! the `NET_RT_FLAGS`/`RTF_LLINFO` sysctl, parsed by
//! [`neighbours::parse_route_sysctl`] (bytes from the kernel, walked by their
//! own `rtm_msglen`/`sa_len`/`sdl_*len` fields). Properties: no panic, no read
//! past the input, every entry IPv4, every address returned for a MAC usable
//! and mapped back to that MAC, and a truncated buffer gives the records
//! before the cut and nothing else.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vmbar_engine::addr::is_usable_vm_ipv4;
use vmbar_engine::neighbours;

fuzz_target!(|data: &[u8]| {
    let t = neighbours::parse_route_sysctl(data);
    assert!(t.entries.iter().all(|e| e.ip.is_ipv4()));
    for e in t.entries.iter().take(32) {
        if let Some(mac) = e.mac {
            for ip in t.ipv4_for(mac) {
                assert!(is_usable_vm_ipv4(ip), "{ip} offered for {mac}");
                assert!(t.macs_for(ip).contains(&mac), "{ip} offered for {mac} but macs_for disagrees");
            }
        }
    }
    // A shorter read of the same buffer never invents an entry.
    if !data.is_empty() {
        let cut = neighbours::parse_route_sysctl(&data[..data.len() / 2]);
        assert!(cut.entries.len() <= t.entries.len());
        assert_eq!(cut.entries[..], t.entries[..cut.entries.len()]);
    }
});
