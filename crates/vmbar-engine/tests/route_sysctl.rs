//! The macOS neighbour table as `arp(8)` reads it: routing messages from the
//! `NET_RT_FLAGS`/`RTF_LLINFO` sysctl, parsed by `neighbours::parse_route_sysctl`
//! on every OS from byte fixtures built here with the layout of Apple's
//! `<net/route.h>` and `<net/if_dl.h>` (see `neighbours::rt`).

use std::net::{IpAddr, Ipv4Addr};

use vmbar_engine::mac::MacAddr;
use vmbar_engine::neighbours::{self, rt, NeighbourFormat, NeighbourState, NeighbourTable};

/// One `sockaddr_dl`: `sdl_len` is the header plus name plus link address, unpadded (the
/// message pads it to 4 bytes); `sdl_type` 6 (`IFT_ETHER`), `sdl_index` 7.
fn sdl(name: &str, ll: &[u8]) -> Vec<u8> {
    let len = rt::SDL_DATA_OFFSET + name.len() + ll.len();
    let mut v = vec![len as u8, rt::AF_LINK, 7, 0, 6, name.len() as u8, ll.len() as u8, 0];
    v.extend_from_slice(name.as_bytes());
    v.extend_from_slice(ll);
    v
}

/// One `sockaddr_in` (`sin_len` 16).
fn sin(ip: [u8; 4]) -> Vec<u8> {
    let mut v = vec![16, rt::AF_INET, 0, 0];
    v.extend_from_slice(&ip);
    v.extend_from_slice(&[0; 8]);
    v
}

/// One routing message: `rt_msghdr` (version 5, type `RTM_GET`, flags UP|HOST|LLINFO), the
/// sockaddrs padded to 4 bytes, `rtm_msglen` covering them (plus `extra` bytes).
fn msg(addrs: i32, sockaddrs: &[Vec<u8>], expire: i32, extra: usize) -> Vec<u8> {
    let mut v = vec![0u8; rt::RT_MSGHDR_LEN];
    v[2] = rt::RTM_VERSION;
    v[3] = 4;
    v[4..6].copy_from_slice(&7u16.to_le_bytes());
    v[8..12].copy_from_slice(&(0x1 | 0x4 | rt::RTF_LLINFO).to_le_bytes());
    v[12..16].copy_from_slice(&addrs.to_le_bytes());
    v[rt::RMX_EXPIRE_OFFSET..rt::RMX_EXPIRE_OFFSET + 4].copy_from_slice(&expire.to_le_bytes());
    for sa in sockaddrs {
        v.extend_from_slice(sa);
        v.resize(v.len() + rt::roundup(sa.len()) - sa.len(), 0);
    }
    v.resize(v.len() + extra, 0);
    let len = v.len() as u16;
    v[0..2].copy_from_slice(&len.to_le_bytes());
    v
}

fn entry(ip: [u8; 4], name: &str, ll: &[u8], expire: i32) -> Vec<u8> {
    msg(rt::RTA_DST | rt::RTA_GATEWAY, &[sin(ip), sdl(name, ll)], expire, 0)
}

const VM: [u8; 6] = [0x52, 0x54, 0x00, 0xa4, 0x0b, 0x55];
const OTHER: [u8; 6] = [0x56, 0x3d, 0xf6, 0x7f, 0x39, 0xa7];

fn mac(b: [u8; 6]) -> MacAddr {
    MacAddr(b)
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// A dump like the multipass sample (corpus #21) as the kernel would give it.
fn dump() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(entry([192, 168, 64, 1], "", &[0x3e, 0x22, 0xfb, 0xb9, 0x1a, 0x64], 0)); // the host's bridge: permanent
    b.extend(entry([192, 168, 64, 3], "", &VM, 1200));
    b.extend(entry([192, 168, 64, 5], "bridge100", &OTHER, 1100));
    b.extend(entry([192, 168, 64, 9], "", &[], 1300)); // incomplete: sdl_alen 0
    b.extend(entry([192, 168, 64, 255], "", &[0xff; 6], 0)); // broadcast
    b
}

#[test]
fn route_sysctl_entries_with_and_without_link_layer_address() {
    let t = neighbours::parse_route_sysctl(&dump());
    assert_eq!(t.format, Some(NeighbourFormat::RouteSysctl));
    assert_eq!(t.skipped_lines, 0);
    let rows: Vec<(IpAddr, Option<MacAddr>, Option<&str>, NeighbourState)> = t.entries.iter().map(|e| (e.ip, e.mac, e.iface.as_deref(), e.state)).collect();
    assert_eq!(
        rows,
        [
            (v4(192, 168, 64, 1), Some(mac([0x3e, 0x22, 0xfb, 0xb9, 0x1a, 0x64])), None, NeighbourState::Permanent),
            (v4(192, 168, 64, 3), Some(mac(VM)), None, NeighbourState::Complete),
            (v4(192, 168, 64, 5), Some(mac(OTHER)), Some("bridge100"), NeighbourState::Complete),
            (v4(192, 168, 64, 9), None, None, NeighbourState::Incomplete),
            (v4(192, 168, 64, 255), Some(mac([0xff; 6])), None, NeighbourState::Permanent),
        ]
    );
    assert_eq!(t.ipv4_for(mac(VM)), [Ipv4Addr::new(192, 168, 64, 3)]);
    assert!(t.ipv4_for(mac([0xff; 6])).is_empty(), "broadcast is not a VM");
    assert!(t.macs_for(Ipv4Addr::new(192, 168, 64, 9)).is_empty(), "an incomplete entry maps to nothing");
    // parse_as reads a text's bytes as records: text is not a dump (skipped, never guessed).
    let t = neighbours::parse_as("? (10.0.0.2) at 52:54:0:a4:b:55 on en0 ifscope [ethernet]\n", NeighbourFormat::RouteSysctl);
    assert_eq!((t.format, t.entries.len(), t.skipped_lines), (Some(NeighbourFormat::RouteSysctl), 0, 1));
    assert!(neighbours::parse_route_sysctl(&[]).entries.is_empty());
}

#[test]
fn route_sysctl_same_answers_as_arp_an_text() {
    // The text `arp -an` prints for this dump (corpus #21's shape) gives the same answers.
    let text = "? (192.168.64.1) at 3e:22:fb:b9:1a:64 on bridge100 ifscope permanent [bridge]\n\
                ? (192.168.64.3) at 52:54:0:a4:b:55 on bridge100 ifscope [bridge]\n\
                ? (192.168.64.5) at 56:3d:f6:7f:39:a7 on bridge100 ifscope [bridge]\n\
                ? (192.168.64.9) at (incomplete) on bridge100 ifscope [bridge]\n\
                ? (192.168.64.255) at ff:ff:ff:ff:ff:ff on bridge100 ifscope [bridge]\n";
    let from_text = neighbours::parse(text);
    let from_bytes = neighbours::parse_route_sysctl(&dump());
    for m in [VM, OTHER, [0xff; 6], [0x3e, 0x22, 0xfb, 0xb9, 0x1a, 0x64]] {
        assert_eq!(from_bytes.ipv4_for(mac(m)), from_text.ipv4_for(mac(m)), "{}", mac(m));
    }
    let states = |t: &NeighbourTable| t.entries.iter().map(|e| (e.ip, e.mac, e.state.is_valid())).collect::<Vec<_>>();
    assert_eq!(states(&from_bytes), states(&from_text));
}

#[test]
fn route_sysctl_odd_sdl_lengths_and_names() {
    // sdl_len 14 (8 + 0 + 6, not a multiple of 4): the next sockaddr/record starts after padding.
    let unpadded = entry([10, 1, 0, 2], "", &VM, 60);
    assert_eq!(unpadded.len(), rt::RT_MSGHDR_LEN + 16 + 16);
    // An odd name length ("bridge100", 9) before the address: LLADDR = sdl_data + sdl_nlen.
    let odd_name = entry([10, 1, 0, 3], "bridge100", &OTHER, 60);
    // A 20-byte sockaddr_dl (the kernel's usual minimum) with trailing zeros after the address.
    let mut wide = sdl("en0", &VM);
    wide.resize(20, 0);
    wide[0] = 20;
    let padded = msg(rt::RTA_DST | rt::RTA_GATEWAY, &[sin([10, 1, 0, 4]), wide], 60, 0);
    // Link-layer addresses that are not EUI-48: 8 bytes (IEEE 1394), 3 bytes.
    let firewire = entry([10, 1, 0, 5], "fw0", &[1, 2, 3, 4, 5, 6, 7, 8], 60);
    let odd_alen = entry([10, 1, 0, 6], "x", &[0x52, 0x54, 0], 60);
    // A message longer than its sockaddrs (rtm_msglen covers trailing bytes).
    let trailing = msg(rt::RTA_DST | rt::RTA_GATEWAY, &[sin([10, 1, 0, 7]), sdl("", &OTHER)], 60, 12);
    // sockaddrs after the gateway (RTA_NETMASK) are not read.
    let netmask = msg(rt::RTA_DST | rt::RTA_GATEWAY | 0x4, &[sin([10, 1, 0, 8]), sdl("", &VM), sin([255, 255, 255, 255])], 60, 0);
    let bytes: Vec<u8> = [unpadded, odd_name, padded, firewire, odd_alen, trailing, netmask].concat();
    let t = neighbours::parse_route_sysctl(&bytes);
    assert_eq!(t.skipped_lines, 0);
    let rows: Vec<(IpAddr, Option<MacAddr>, Option<&str>, NeighbourState)> = t.entries.iter().map(|e| (e.ip, e.mac, e.iface.as_deref(), e.state)).collect();
    assert_eq!(
        rows,
        [
            (v4(10, 1, 0, 2), Some(mac(VM)), None, NeighbourState::Complete),
            (v4(10, 1, 0, 3), Some(mac(OTHER)), Some("bridge100"), NeighbourState::Complete),
            (v4(10, 1, 0, 4), Some(mac(VM)), Some("en0"), NeighbourState::Complete),
            (v4(10, 1, 0, 5), None, Some("fw0"), NeighbourState::Unknown),
            (v4(10, 1, 0, 6), None, Some("x"), NeighbourState::Unknown),
            (v4(10, 1, 0, 7), Some(mac(OTHER)), None, NeighbourState::Complete),
            (v4(10, 1, 0, 8), Some(mac(VM)), None, NeighbourState::Complete),
        ]
    );
}

#[test]
fn route_sysctl_unreadable_records_are_skipped_not_guessed() {
    let good = entry([10, 2, 0, 1], "", &VM, 60);
    let mut old_version = entry([10, 2, 0, 2], "", &VM, 60);
    old_version[2] = 4;
    let no_gateway = msg(rt::RTA_DST, &[sin([10, 2, 0, 3])], 60, 0);
    let inet6 = msg(rt::RTA_DST | rt::RTA_GATEWAY, &[vec![28, 30, 0, 0, 0, 0, 0, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0], sdl("", &VM)], 60, 0);
    let gw_not_link = msg(rt::RTA_DST | rt::RTA_GATEWAY, &[sin([10, 2, 0, 4]), sin([10, 2, 0, 254])], 60, 0);
    // sdl_alen claims more bytes than sdl_len holds.
    let mut lying_alen = sdl("", &VM);
    lying_alen[6] = 40;
    let lying = msg(rt::RTA_DST | rt::RTA_GATEWAY, &[sin([10, 2, 0, 5]), lying_alen], 60, 0);
    // A sockaddr whose sa_len runs past the message.
    let mut long_sa = entry([10, 2, 0, 6], "", &VM, 60);
    long_sa[rt::RT_MSGHDR_LEN + 16] = 200;
    let bytes: Vec<u8> = [old_version, no_gateway, inet6, gw_not_link, lying, long_sa, good.clone()].concat();
    let t = neighbours::parse_route_sysctl(&bytes);
    assert_eq!(t.skipped_lines, 6, "{t:?}");
    assert_eq!(t.entries.len(), 1);
    assert_eq!(t.ipv4_for(mac(VM)), [Ipv4Addr::new(10, 2, 0, 1)]);
}

#[test]
fn route_sysctl_truncated_buffers_and_bad_msglen_never_panic() {
    let full = dump();
    let whole = neighbours::parse_route_sysctl(&full);
    // Every prefix: a truncated read gives the complete records before the cut, and counts the cut one.
    let mut boundaries = vec![0usize];
    while let Some(&b) = boundaries.last().filter(|&&b| b < full.len()) {
        boundaries.push(b + usize::from(u16::from_le_bytes([full[b], full[b + 1]])));
    }
    for n in 0..=full.len() {
        let t = neighbours::parse_route_sysctl(&full[..n]);
        let complete = boundaries.iter().filter(|&&b| b > 0 && b <= n).count();
        assert_eq!(t.entries[..], whole.entries[..complete], "prefix {n}: the records before the cut");
        assert_eq!(t.skipped_lines, usize::from(!boundaries.contains(&n)), "prefix {n}: the cut record counts once");
    }
    // rtm_msglen running past the buffer: the walk ends there.
    let mut past = full.clone();
    let second = usize::from(u16::from_le_bytes([past[0], past[1]]));
    past[second..second + 2].copy_from_slice(&u16::MAX.to_le_bytes());
    let t = neighbours::parse_route_sysctl(&past);
    assert_eq!((t.entries.len(), t.skipped_lines), (1, 1));
    // rtm_msglen 0 or shorter than the header: no endless loop, no read before the header.
    for bad in [0u16, 1, 91] {
        let mut b = full.clone();
        b[0..2].copy_from_slice(&bad.to_le_bytes());
        let t = neighbours::parse_route_sysctl(&b);
        assert_eq!((t.entries.len(), t.skipped_lines), (0, 1), "msglen {bad}");
    }
    // Pseudo-random bytes and random corruptions of a valid dump.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..2000 {
        let mut b = full.clone();
        for _ in 0..(next() % 8) {
            let i = (next() as usize) % b.len();
            b[i] = next() as u8;
        }
        let t = neighbours::parse_route_sysctl(&b);
        assert!(t.entries.iter().all(|e| e.ip.is_ipv4()));
        let noise: Vec<u8> = (0..(next() % 512)).map(|_| next() as u8).collect();
        let _ = neighbours::parse_route_sysctl(&noise);
    }
}

#[test]
fn route_sysctl_layout_constants_match_apples_headers() {
    // struct rt_msghdr: 4 × u16/u8 fields (8 bytes with padding), 7 × 32-bit fields, rt_metrics of 14 × 32 bits.
    assert_eq!(rt::RT_MSGHDR_LEN, 8 + 7 * 4 + 14 * 4);
    assert_eq!(rt::RMX_EXPIRE_OFFSET, 36 + 3 * 4, "rmx_locks, rmx_mtu, rmx_hopcount come first");
    assert_eq!(rt::ARP_MIB, [4, 17, 0, 2, 2, 0x400]);
    assert_eq!([rt::roundup(0), rt::roundup(1), rt::roundup(14), rt::roundup(16), rt::roundup(17)], [4, 4, 16, 16, 20]);
}
