//! Is this IPv4 address on a link the host is attached to? The host's
//! connected routes, behind the [`Routes`] port.
//!
//! An address that the host reaches only through a gateway proves nothing
//! about a VM: whatever answers there is some other machine (a user-mode VM's
//! `10.0.2.15` while the host routes `10/8` to a VPN, a public address a guest
//! printed). Such an address is never confirmed, whatever its source, and never
//! probed (see [`crate::status::decide`] and [`crate::engine`]).
//!
//! A connected route is one without a gateway, on a device that resolves
//! neighbours (ARP): the LAN or bridge a VM can sit on. Excluded: default
//! routes (`/0`: a prefix, not a link), reject/blackhole routes, loopback, and
//! point-to-point or NOARP devices (VPN tunnels: `tun`, `wg`, `utun`).
//!
//! Sources (parsed by pure functions, tested on every OS):
//! - Linux: `/proc/net/route` (`proc(5)`; the main table, read by the kernel for
//!   the reader's network namespace; no process spawned) and each device's
//!   `/sys/class/net/DEV/flags` (`IFF_*` of `<linux/if.h>`). Chosen over a
//!   netlink crate (`rtnetlink`): one small text file, no new dependency, and
//!   the same answer for the main table, which holds the connected routes.
//! - macOS: `/usr/sbin/netstat -rn -f inet` (`netstat(1)`, an argv, no shell),
//!   with a timeout.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::probe::BoxFuture;

/// The links the host is attached to: IPv4 prefixes of connected routes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable {
    /// `(network, prefix length in bits, device)` of each connected route, in the order read.
    pub links: Vec<(Ipv4Addr, u8, String)>,
}

impl RouteTable {
    /// True when `ip` is inside a connected route's prefix.
    pub fn on_link(&self, ip: Ipv4Addr) -> bool {
        self.links.iter().any(|(net, len, _)| in_prefix(ip, *net, *len))
    }

    /// A table of the given prefixes (`"192.168.1.0/24"`), for tests and fakes;
    /// unparsable entries are skipped.
    pub fn from_prefixes(prefixes: &[&str]) -> Self {
        let mut links = Vec::new();
        for p in prefixes {
            if let Some((net, len)) = p.split_once('/') {
                if let (Ok(net), Ok(len)) = (net.parse::<Ipv4Addr>(), len.parse::<u8>()) {
                    if len <= 32 {
                        links.push((net, len, String::new()));
                    }
                }
            }
        }
        RouteTable { links }
    }
}

fn in_prefix(ip: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    if len == 0 {
        return true;
    }
    let mask = u32::MAX << (32 - u32::from(len.min(32)));
    u32::from(ip) & mask == u32::from(net) & mask
}

/// Reads the host's connected routes. Behind a trait so tests can fake it.
pub trait Routes: Send + Sync {
    /// The current table, or a message saying why it could not be read.
    fn read(&self) -> BoxFuture<Result<RouteTable, String>>;
}

/// `RTF_UP` (`<linux/route.h>`).
const RTF_UP: u32 = 0x0001;
/// `RTF_GATEWAY`.
const RTF_GATEWAY: u32 = 0x0002;
/// `RTF_REJECT`.
const RTF_REJECT: u32 = 0x0200;
/// `IFF_LOOPBACK` (`<linux/if.h>`).
pub const IFF_LOOPBACK: u32 = 0x8;
/// `IFF_POINTOPOINT`.
pub const IFF_POINTOPOINT: u32 = 0x10;
/// `IFF_NOARP`.
pub const IFF_NOARP: u32 = 0x80;

/// Parses Linux `/proc/net/route` (`proc(5)`): a header line, then per route
/// `Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT`,
/// whitespace separated, addresses as 8 hex digits of the kernel's
/// network-order `__be32` printed as a host-order `u32` (so byte-reversed on
/// little-endian hosts). Keeps the connected routes: up, no `RTF_GATEWAY`, no
/// `RTF_REJECT`, gateway 0, a real device (blackhole routes show `*`), a
/// prefix longer than 0, and a device for which `device_ok` (its `IFF_*`
/// flags, see [`linux_device_ok`]) is true. Malformed lines are skipped.
pub fn parse_proc_net_route(text: &str, device_ok: &dyn Fn(&str) -> bool) -> RouteTable {
    let hex = |s: &str| u32::from_str_radix(s, 16).ok();
    let addr = |v: u32| Ipv4Addr::from(v.to_ne_bytes());
    let mut links = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        let (Some(dest), Some(gw), Some(flags), Some(mask)) = (hex(f[1]), hex(f[2]), hex(f[3]), hex(f[7])) else { continue };
        if flags & RTF_UP == 0 || flags & (RTF_GATEWAY | RTF_REJECT) != 0 || gw != 0 || f[0] == "*" {
            continue;
        }
        let mask = u32::from(addr(mask));
        if mask == 0 || mask.leading_ones() + mask.trailing_zeros() != 32 {
            continue;
        }
        if !device_ok(f[0]) {
            continue;
        }
        links.push((addr(dest), mask.leading_ones() as u8, f[0].to_owned()));
    }
    RouteTable { links }
}

/// True for a device whose `IFF_*` flags (`/sys/class/net/DEV/flags`, hex)
/// make it a link a VM can be on: not loopback, not point-to-point, resolving
/// neighbours (no `IFF_NOARP`). Unreadable flags count as not a link.
pub fn linux_device_ok(flags_text: Option<&str>) -> bool {
    let Some(flags) = flags_text.and_then(|t| u32::from_str_radix(t.trim().trim_start_matches("0x"), 16).ok()) else { return false };
    flags & (IFF_LOOPBACK | IFF_POINTOPOINT | IFF_NOARP) == 0
}

/// Parses macOS/BSD `netstat -rn -f inet` (`netstat(1)`, `route.c`): the
/// `Destination Gateway Flags ... Netif ...` table. Keeps routes whose gateway
/// is `link#N` (directly connected), without the flags `G` (gateway), `R`
/// (reject) or `B` (blackhole), on a device that is not loopback or a tunnel
/// (`lo*`, `utun*`, `ipsec*`, `ppp*`, `gif*`, `stf*`, `tun*`, `wg*`).
///
/// Destinations are as `netstat` prints them: `default` (skipped), a host
/// (`H` flag: /32), `A.B.C/len`, or a network with trailing zero octets
/// dropped and no `/len` when its mask is the classful one (`netname()` and
/// `domask()`: `169.254` is 169.254.0.0/16, `192.168.220` is /24, `10` is /8,
/// `192.168` is 192.168.0.0/24 since class C). Malformed lines are skipped.
pub fn parse_netstat_rn(text: &str) -> RouteTable {
    let mut links = Vec::new();
    let mut cols: Option<(usize, usize, usize, usize)> = None;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.first() == Some(&"Destination") {
            let at = |name: &str| f.iter().position(|c| *c == name);
            cols = match (at("Destination"), at("Gateway"), at("Flags"), at("Netif")) {
                (Some(d), Some(g), Some(fl), Some(n)) => Some((d, g, fl, n)),
                _ => None,
            };
            continue;
        }
        if line.trim_end().ends_with(':') && f.len() == 1 {
            // "Internet:" / "Internet6:": a new section; its header follows
            cols = None;
            continue;
        }
        let Some((d, g, fl, n)) = cols else { continue };
        let (Some(dest), Some(gw), Some(flags), Some(dev)) = (f.get(d), f.get(g), f.get(fl), f.get(n)) else { continue };
        if !gw.starts_with("link#") || flags.contains(['G', 'R', 'B']) || !flags.contains('U') {
            continue;
        }
        const TUNNELS: [&str; 8] = ["lo", "utun", "ipsec", "ppp", "gif", "stf", "tun", "wg"];
        if TUNNELS.iter().any(|p| dev.starts_with(p)) {
            continue;
        }
        if let Some((net, len)) = bsd_destination(dest, flags.contains('H')) {
            if len > 0 {
                links.push((net, len, (*dev).to_owned()));
            }
        }
    }
    RouteTable { links }
}

/// One `netstat` destination as (network, prefix length), see [`parse_netstat_rn`].
fn bsd_destination(dest: &str, host: bool) -> Option<(Ipv4Addr, u8)> {
    if dest == "default" || dest.contains('&') || dest.contains('%') {
        return None;
    }
    let (net, len) = match dest.split_once('/') {
        Some((n, l)) => (n, Some(l.parse::<u8>().ok().filter(|l| *l <= 32)?)),
        None => (dest, None),
    };
    let parts: Vec<u8> = net.split('.').map(|p| p.parse::<u8>().ok()).collect::<Option<Vec<u8>>>()?;
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut o = [0u8; 4];
    o[..parts.len()].copy_from_slice(&parts);
    let ip = Ipv4Addr::from(o);
    let len = match len {
        Some(l) => l,
        None if host || parts.len() == 4 => 32,
        // the classful mask of `forgemask()`: class A /8, B /16, C /24
        None if o[0] < 128 => 8,
        None if o[0] < 192 => 16,
        None if o[0] < 224 => 24,
        None => return None,
    };
    Some((ip, len))
}

/// A fixed table (tests, benchmarks): `StaticRoutes(RouteTable::from_prefixes(&["0.0.0.0/0"]))`
/// puts every address on a link.
#[derive(Debug, Clone, Default)]
pub struct StaticRoutes(pub RouteTable);

impl Routes for StaticRoutes {
    fn read(&self) -> BoxFuture<Result<RouteTable, String>> {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }
}

/// The real routes of this OS.
#[derive(Debug, Clone)]
pub struct OsRoutes {
    /// Timeout for `netstat` (macOS).
    pub timeout: Duration,
}

impl Routes for OsRoutes {
    fn read(&self) -> BoxFuture<Result<RouteTable, String>> {
        let timeout = self.timeout;
        Box::pin(async move {
            if cfg!(target_os = "linux") {
                let text = tokio::fs::read_to_string("/proc/net/route").await.map_err(|e| format!("cannot read /proc/net/route: {e}"))?;
                let ok = |dev: &str| {
                    // a device name from the kernel never holds '/', but keep it a single component
                    !dev.contains('/') && dev != "." && dev != ".." && linux_device_ok(std::fs::read_to_string(format!("/sys/class/net/{dev}/flags")).ok().as_deref())
                };
                Ok(parse_proc_net_route(&text, &ok))
            } else if cfg!(target_os = "macos") {
                let argv = ["/usr/sbin/netstat".to_string(), "-rn".into(), "-f".into(), "inet".into()];
                crate::os::run_command(&argv, timeout).await.map(|t| parse_netstat_rn(&t))
            } else {
                Err("the host's routes cannot be read on this OS".into())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    #[test]
    fn linux_proc_net_route_of_a_namespace() {
        let text = include_str!("../tests/fixtures/routes/linux-proc-net-route-netns.txt");
        // the flags read from /sys/class/net in that namespace: veths 0x1003, the tun 0x1091
        let flags = |dev: &str| match dev {
            "v0" | "v1" => Some("0x1003"),
            "tun9" => Some("0x1091"),
            _ => None,
        };
        let t = parse_proc_net_route(text, &|d| linux_device_ok(flags(d)));
        let links: Vec<(Ipv4Addr, u8, &str)> = t.links.iter().map(|(n, l, d)| (*n, *l, d.as_str())).collect();
        assert_eq!(links, vec![(ip("172.31.9.0"), 30, "v1"), (ip("192.168.64.0"), 24, "v0"), (ip("198.51.100.7"), 32, "v0")]);
        assert!(t.on_link(ip("192.168.64.77")));
        assert!(t.on_link(ip("172.31.9.2")));
        assert!(t.on_link(ip("198.51.100.7")));
        for off in ["10.0.2.15", "8.8.8.8", "100.64.1.1", "203.0.113.5", "198.18.0.1", "172.31.9.5", "198.51.100.8"] {
            assert!(!t.on_link(ip(off)), "{off}");
        }
        // unreadable device flags: nothing is a link
        assert!(parse_proc_net_route(text, &|_| linux_device_ok(None)).links.is_empty());
    }

    #[test]
    fn linux_garbage_is_skipped() {
        let t = parse_proc_net_route("Iface\tDestination\nv0 zz 00000000 0001 0 0 0 00FFFFFF\nv0\n\n", &|_| true);
        assert_eq!(t, RouteTable::default());
    }

    #[test]
    fn macos_netstat_rn() {
        let text = include_str!("../tests/fixtures/routes/macos-netstat-rn-apple-se-336888.txt");
        let t = parse_netstat_rn(text);
        let links: Vec<(Ipv4Addr, u8, &str)> = t.links.iter().map(|(n, l, d)| (*n, *l, d.as_str())).collect();
        assert_eq!(
            links,
            vec![
                (ip("10.10.10.0"), 24, "en0"),
                (ip("10.10.10.1"), 32, "en0"),
                (ip("10.10.10.104"), 32, "en0"),
                (ip("169.254.0.0"), 16, "en0"),
                (ip("172.16.111.0"), 24, "vmnet1"),
                (ip("192.168.220.0"), 24, "vmnet8"),
                (ip("224.0.0.0"), 4, "en0"),
                (ip("255.255.255.255"), 32, "en0"),
            ]
        );
        assert!(t.on_link(ip("192.168.220.128")));
        assert!(t.on_link(ip("10.10.10.107")));
        assert!(!t.on_link(ip("10.0.2.15")));
        assert!(!t.on_link(ip("8.8.8.8")));
        assert!(!t.on_link(ip("127.0.0.1")));
    }

    #[test]
    fn bsd_classful_destinations() {
        assert_eq!(bsd_destination("192.168", false), Some((ip("192.168.0.0"), 24)));
        assert_eq!(bsd_destination("10", false), Some((ip("10.0.0.0"), 8)));
        assert_eq!(bsd_destination("172.16", false), Some((ip("172.16.0.0"), 16)));
        assert_eq!(bsd_destination("10.211.55/24", false), Some((ip("10.211.55.0"), 24)));
        assert_eq!(bsd_destination("192.168.64.1", true), Some((ip("192.168.64.1"), 32)));
        assert_eq!(bsd_destination("default", false), None);
        assert_eq!(bsd_destination("1.2.3.4/33", false), None);
        assert_eq!(bsd_destination("a.b", false), None);
        // a utun (VPN) route is never a link, nor a gateway or reject route
        let t = parse_netstat_rn("Internet:\nDestination Gateway Flags Netif Expire\n10 link#20 UCS utun3\n100.64/10 192.168.1.1 UGSc en0\n198.18/15 link#4 UCSR en0\n192.168.64 link#18 UC bridge100 !\n");
        assert_eq!(t.links, vec![(ip("192.168.64.0"), 24, "bridge100".to_string())]);
    }

    #[test]
    fn prefixes() {
        let t = RouteTable::from_prefixes(&["192.168.1.0/24", "junk", "10.1.0.0/40"]);
        assert!(t.on_link(ip("192.168.1.200")));
        assert!(!t.on_link(ip("192.168.2.1")));
        assert!(!t.on_link(ip("10.1.0.1")));
    }
}
