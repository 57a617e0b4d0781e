//! The host's neighbour table (ARP for IPv4, NDP for IPv6), parsed from the
//! text of every tool that prints it, on every OS, without doing any IO.
//!
//! A VM that got an address has talked to the host, so the host's neighbour
//! table maps the VM NIC's MAC to its IPv4. This module turns the table's text
//! into [`NeighbourEntry`] values; the caller reads the file or runs the tool.
//!
//! | [`NeighbourFormat`] | producer and documented source |
//! |---|---|
//! | [`ProcNetArp`](NeighbourFormat::ProcNetArp) | Linux `/proc/net/arp`: `proc(5)`; rows printed by the kernel's `arp_seq_show()` (`net/ipv4/arp.c`) as `%-16s 0x%-10x0x%-10x%-17s     *        %s` |
//! | [`IpNeigh`](NeighbourFormat::IpNeigh) | iproute2 `ip neigh [show]`: `ip-neighbour(8)` |
//! | [`LinuxArpAn`](NeighbourFormat::LinuxArpAn) | net-tools `arp -an` / `arp -a` (BSD style): `arp(8)` |
//! | [`LinuxArpTable`](NeighbourFormat::LinuxArpTable) | net-tools `arp` / `arp -n` (columns): `arp(8)` |
//! | [`MacosArp`](NeighbourFormat::MacosArp) | macOS/BSD `arp -an` and `arp -a`: macOS `arp(8)` |
//! | [`MacosNdp`](NeighbourFormat::MacosNdp) | macOS/BSD `ndp -an`: macOS `ndp(8)` |
//! | [`IpNeighJson`](NeighbourFormat::IpNeighJson) | iproute2 `ip -j neigh` (JSON array; `ip(8)` `-json`) |
//! | [`RouteSysctl`](NeighbourFormat::RouteSysctl) | macOS kernel routing messages, as `arp(8)` reads them: `sysctl {CTL_NET, PF_ROUTE, 0, AF_INET, NET_RT_FLAGS, RTF_LLINFO}`; binary, see [`parse_route_sysctl`] |
//!
//! Every parser is line based and whitespace tolerant: runs of spaces or
//! tabs, CRLF line ends, trailing spaces and leading blank lines are all
//! accepted. Lines that cannot be read are counted in
//! [`NeighbourTable::skipped_lines`], never guessed at. Parsers take `&str`;
//! callers holding bytes that may not be UTF-8 use `String::from_utf8_lossy`
//! (every field the parsers read is ASCII, so a replaced byte only spoils the
//! line it sits in).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use crate::mac::MacAddr;

/// Which tool printed a neighbour table (see the module table for sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NeighbourFormat {
    /// Linux `/proc/net/arp` (`IP address HW type Flags HW address Mask Device`).
    ProcNetArp,
    /// iproute2 `ip neigh`: `IP dev IFACE lladdr MAC [router] STATE`.
    IpNeigh,
    /// net-tools `arp -an`: `? (IP) at MAC [ether] [PERM] on IFACE`.
    LinuxArpAn,
    /// net-tools `arp` columns: `Address HWtype HWaddress Flags Mask Iface`.
    LinuxArpTable,
    /// macOS `arp -an` and `arp -a`: `NAME (IP) at MAC on IFACE [ifscope] [permanent] [ethernet]`.
    MacosArp,
    /// macOS `ndp -an`: `Neighbor Linklayer Address Netif Expire St Flgs Prbs` (IPv6).
    MacosNdp,
    /// iproute2 `ip -j [-p] neigh`: `[{"dst":IP,"dev":IFACE,"lladdr":MAC,"state":["STALE"]},…]`.
    /// The most robust Linux source when iproute2 is new enough (≥ 4.14).
    IpNeighJson,
    /// macOS routing messages (`rt_msghdr` + `sockaddr_in` + `sockaddr_dl` records) from the
    /// `NET_RT_FLAGS`/`RTF_LLINFO` sysctl: bytes, not text ([`parse_route_sysctl`]). Never detected
    /// from text; [`parse_as`] reads the text's bytes as such records.
    RouteSysctl,
}

/// The state of a neighbour entry, as far as the format tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NeighbourState {
    /// Confirmed recently (`ip neigh` REACHABLE, `ndp` St `R`).
    Reachable,
    /// Not confirmed recently but still a valid mapping (`STALE`, `ndp` `S`).
    Stale,
    /// Waiting before a probe (`DELAY`, `ndp` `D`); valid mapping.
    Delay,
    /// Being re-probed (`PROBE`, `ndp` `P`); valid mapping.
    Probe,
    /// Static entry (`PERMANENT`, `/proc` flag 0x4, net-tools `PERM`/`M`, macOS `permanent`).
    Permanent,
    /// Resolved entry in a format without NUD states (`/proc` flag 0x2, net-tools, macOS `arp`).
    Complete,
    /// Resolution in progress, no MAC (`INCOMPLETE`, `<incomplete>`, `(incomplete)`, flags 0x0).
    Incomplete,
    /// Resolution failed, no MAC (`FAILED`).
    Failed,
    /// Device without ARP (`NOARP`); the MAC is whatever was configured.
    Noarp,
    /// A state word this module does not know (`NONE`, `ndp` `N`/`W`/`?`).
    Unknown,
}

impl NeighbourState {
    /// True when an entry in this state maps its IP to its MAC (everything but
    /// `Incomplete` and `Failed`; `STALE` is still a valid mapping).
    pub fn is_valid(self) -> bool {
        !matches!(self, NeighbourState::Incomplete | NeighbourState::Failed)
    }
}

/// One row of a neighbour table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighbourEntry {
    /// The neighbour's IP (IPv6 zone suffixes such as `%en0` are dropped).
    pub ip: IpAddr,
    /// Its link-layer address; `None` when the row has none (incomplete, failed).
    pub mac: Option<MacAddr>,
    /// The interface the neighbour was seen on (`virbr0`, `bridge100`), when printed.
    pub iface: Option<String>,
    /// The entry's state.
    pub state: NeighbourState,
}

impl NeighbourEntry {
    /// True when this row maps its IP to a MAC that can be a VM NIC: a valid
    /// state and a unicast, non-zero MAC.
    pub fn is_usable(&self) -> bool {
        self.state.is_valid() && self.mac.is_some_and(|m| m.is_unicast())
    }
}

/// A parsed neighbour table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NeighbourTable {
    /// The format the text was read as; `None` when detection found nothing.
    pub format: Option<NeighbourFormat>,
    /// The rows, in input order (invalid ones included, with their state).
    pub entries: Vec<NeighbourEntry>,
    /// Non-blank, non-header lines that could not be read as a row.
    pub skipped_lines: usize,
}

impl NeighbourTable {
    /// Usable IPv4 addresses mapped to `mac`, in table order, without
    /// duplicates. Skips incomplete/failed entries, zero and group MACs, and
    /// addresses for which [`is_usable_vm_ipv4`] is false (link-local,
    /// loopback, multicast, broadcast). Several results mean the table is
    /// ambiguous: report them all, do not pick one.
    pub fn ipv4_for(&self, mac: MacAddr) -> Vec<Ipv4Addr> {
        // A set beside the Vec keeps this linear even for huge tables.
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for e in &self.entries {
            if e.mac != Some(mac) || !e.is_usable() {
                continue;
            }
            if let IpAddr::V4(v4) = e.ip {
                if is_usable_vm_ipv4(v4) && seen.insert(v4) {
                    out.push(v4);
                }
            }
        }
        out
    }

    /// The one IPv4 mapped to `mac`, or `None` when there is none or more than
    /// one (an ambiguous table must not be resolved by guessing).
    pub fn unique_ipv4_for(&self, mac: MacAddr) -> Option<Ipv4Addr> {
        match self.ipv4_for(mac).as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The MACs the table maps `ip` to (usable entries only: valid state,
    /// unicast MAC), in table order without duplicates. More than one means
    /// the IP is claimed on several links or by several hosts.
    pub fn macs_for(&self, ip: Ipv4Addr) -> Vec<MacAddr> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for e in &self.entries {
            if e.ip == IpAddr::V4(ip) && e.is_usable() {
                if let Some(m) = e.mac {
                    if seen.insert(m) {
                        out.push(m);
                    }
                }
            }
        }
        out
    }
}

/// True when `ip` can be a VM's own, host-reachable IPv4 (rejects
/// `0.0.0.0/8`, `127.0.0.0/8`, `169.254.0.0/16`, `224.0.0.0/4`,
/// `240.0.0.0/4`); re-exported from [`crate::addr`], where the rule lives.
pub use crate::addr::is_usable_vm_ipv4;

/// Guesses the format from the text: a header line decides at once;
/// otherwise each of the first 64 recognisable rows votes. Returns `None`
/// when no line looks like any known format.
pub fn detect_format(text: &str) -> Option<NeighbourFormat> {
    use NeighbourFormat::*;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if let Some(rest) = trimmed.strip_prefix('[') {
        let rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with('{') || rest.starts_with(']') {
            return Some(IpNeighJson);
        }
    }
    let order = [ProcNetArp, IpNeigh, LinuxArpAn, LinuxArpTable, MacosArp, MacosNdp];
    let mut votes = [0usize; 6];
    let mut seen = 0;
    let mut toks: Vec<&str> = Vec::new();
    for line in text.lines() {
        if !tokenize(line, &mut toks) || toks.is_empty() {
            continue;
        }
        if let Some(f) = header_format(&toks) {
            return Some(f);
        }
        if let Some(f) = row_format(&toks) {
            if let Some(i) = order.iter().position(|x| *x == f) {
                votes[i] += 1;
            }
            seen += 1;
            if seen >= 64 {
                break;
            }
        }
    }
    let (best, n) = votes.iter().enumerate().max_by_key(|(i, n)| (**n, usize::MAX - i))?;
    (*n > 0).then(|| order[best])
}

/// Parses a neighbour table, detecting its format with [`detect_format`].
/// Never panics; text in no known format gives an empty table with
/// `format: None` and every non-blank line counted as skipped.
pub fn parse(text: &str) -> NeighbourTable {
    match detect_format(text) {
        Some(f) => parse_as(text, f),
        None => NeighbourTable {
            format: None,
            entries: Vec::new(),
            skipped_lines: text.lines().filter(|l| !l.trim().is_empty()).count(),
        },
    }
}

/// Parses `text` as `format`. Header lines and blank lines are ignored; lines
/// that do not fit the format are counted in `skipped_lines` (for
/// [`NeighbourFormat::IpNeighJson`]: array elements without a readable
/// `dst`, or 1 for JSON that does not parse at all). The two
/// `(IP) at MAC` formats (net-tools `arp -an` and macOS `arp`) share one
/// reader that accepts both spellings, so a mis-detection between them
/// cannot lose rows.
pub fn parse_as(text: &str, format: NeighbourFormat) -> NeighbourTable {
    if format == NeighbourFormat::RouteSysctl {
        return parse_route_sysctl(text.as_bytes());
    }
    let mut table = NeighbourTable { format: Some(format), entries: Vec::new(), skipped_lines: 0 };
    if format == NeighbourFormat::IpNeighJson {
        parse_ip_neigh_json(text, &mut table);
        return table;
    }
    let mut toks: Vec<&str> = Vec::new();
    for line in text.lines() {
        if !tokenize(line, &mut toks) {
            table.skipped_lines += 1;
            continue;
        }
        if toks.is_empty() || header_format(&toks).is_some() {
            continue;
        }
        let entry = match format {
            NeighbourFormat::ProcNetArp => parse_proc_row(&toks),
            NeighbourFormat::IpNeigh => parse_ip_neigh_row(&toks),
            NeighbourFormat::LinuxArpAn | NeighbourFormat::MacosArp => parse_at_row(&toks),
            NeighbourFormat::LinuxArpTable => parse_arp_table_row(&toks),
            NeighbourFormat::MacosNdp => parse_ndp_row(&toks),
            NeighbourFormat::IpNeighJson | NeighbourFormat::RouteSysctl => None, // handled above
        };
        match entry {
            Some(e) => table.entries.push(e),
            None => table.skipped_lines += 1,
        }
    }
    table
}

/// `ip -j neigh`: iproute2 prints each entry as an object with `dst`,
/// optional `dev`, optional `lladdr`, flag keys (`router`, `proxy`) and
/// `state`, an array of NUD state names (a missing state is treated like
/// the text form: incomplete without `lladdr`, unknown with it).
fn parse_ip_neigh_json(text: &str, table: &mut NeighbourTable) {
    if text.trim().is_empty() {
        return;
    }
    let items = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(a)) => a,
        _ => {
            table.skipped_lines += 1;
            return;
        }
    };
    for item in items {
        let s = |k: &str| item.get(k).and_then(|v| v.as_str());
        let Some(ip) = s("dst").and_then(parse_ip) else {
            table.skipped_lines += 1;
            continue;
        };
        let mac = s("lladdr").and_then(|m| m.parse::<MacAddr>().ok()).filter(|m| !m.is_zero());
        let state = item
            .get("state")
            .and_then(|v| v.as_array())
            .and_then(|a| a.iter().filter_map(|x| x.as_str()).find_map(nud_state))
            .unwrap_or(if s("lladdr").is_some() { NeighbourState::Unknown } else { NeighbourState::Incomplete });
        table.entries.push(NeighbourEntry { ip, mac, iface: s("dev").map(str::to_owned), state });
    }
}

/// The most whitespace-separated tokens a real row has (an `ip -s neigh`
/// row has about 12); longer lines are garbage, and capping keeps a 10 MB
/// line from being split into millions of tokens.
const MAX_TOKENS: usize = 48;

/// Splits `line` on whitespace runs into `toks` (cleared first). Returns
/// false when the line has more than [`MAX_TOKENS`] tokens.
fn tokenize<'a>(line: &'a str, toks: &mut Vec<&'a str>) -> bool {
    toks.clear();
    toks.extend(line.split_whitespace().take(MAX_TOKENS + 1));
    toks.len() <= MAX_TOKENS
}

/// Recognises the header line of the columnar formats.
fn header_format(toks: &[&str]) -> Option<NeighbourFormat> {
    match toks {
        ["IP", "address", "HW", "type", ..] => Some(NeighbourFormat::ProcNetArp),
        ["Address", "HWtype", ..] => Some(NeighbourFormat::LinuxArpTable),
        ["Neighbor", "Linklayer", ..] => Some(NeighbourFormat::MacosNdp),
        _ => None,
    }
}

/// Which format a data row looks like (used only for detection).
fn row_format(toks: &[&str]) -> Option<NeighbourFormat> {
    use NeighbourFormat::*;
    let ip0 = parse_ip(toks[0]);
    if toks.len() >= 3 && ip0.is_some() && toks[1].starts_with("0x") && toks[2].starts_with("0x") {
        return Some(ProcNetArp);
    }
    if let Some(at) = toks.iter().position(|t| *t == "at") {
        if at >= 1 && toks[at - 1].starts_with('(') && toks[at - 1].ends_with(')') {
            let linux = toks.iter().any(|t| *t == "[ether]" || *t == "<incomplete>" || *t == "PERM" || *t == "PUB");
            let mac_style = toks.iter().any(|t| {
                matches!(*t, "(incomplete)" | "ifscope" | "permanent" | "[ethernet]" | "[bridge]")
            }) || toks.get(at + 1).is_some_and(|m| is_unpadded_mac(m));
            return Some(if mac_style && !linux { MacosArp } else { LinuxArpAn });
        }
    }
    if ip0.is_some() && toks.iter().any(|t| *t == "dev" || *t == "lladdr") {
        return Some(IpNeigh);
    }
    if ip0.is_some() && toks.len() >= 2 && nud_state(toks[toks.len() - 1]).is_some() {
        return Some(IpNeigh);
    }
    if toks.len() >= 3 && ip0.is_some() && (toks[1] == "ether" || toks[1] == "(incomplete)") {
        return Some(LinuxArpTable);
    }
    if toks.len() >= 4 && toks[0].contains(':') && ip0.is_some() && (toks[1] == "(incomplete)" || toks[1].parse::<MacAddr>().is_ok()) {
        return Some(MacosNdp);
    }
    None
}

/// True for a MAC spelled with at least one one-digit octet (macOS style).
fn is_unpadded_mac(t: &str) -> bool {
    t.parse::<MacAddr>().is_ok() && t.split(':').any(|o| o.len() == 1)
}

/// Parses an IP, dropping an IPv6 `%zone` suffix (`fe80::1%en0`).
fn parse_ip(t: &str) -> Option<IpAddr> {
    let t = t.split('%').next().unwrap_or(t);
    t.parse().ok()
}

/// Maps an `ip neigh` NUD state word (`ip-neighbour(8)`) to a state.
fn nud_state(t: &str) -> Option<NeighbourState> {
    Some(match t {
        "REACHABLE" => NeighbourState::Reachable,
        "STALE" => NeighbourState::Stale,
        "DELAY" => NeighbourState::Delay,
        "PROBE" => NeighbourState::Probe,
        "PERMANENT" => NeighbourState::Permanent,
        "INCOMPLETE" => NeighbourState::Incomplete,
        "FAILED" => NeighbourState::Failed,
        "NOARP" => NeighbourState::Noarp,
        "NONE" => NeighbourState::Unknown,
        _ => return None,
    })
}

/// `/proc/net/arp` row: `IP HWtype Flags MAC Mask Device`. Flags are the
/// `ATF_*` bits of `<net/if_arp.h>`: 0x2 `ATF_COM` (complete), 0x4
/// `ATF_PERM` (permanent); without `ATF_COM` the entry is incomplete (the
/// kernel prints `00:00:00:00:00:00` then).
fn parse_proc_row(toks: &[&str]) -> Option<NeighbourEntry> {
    if toks.len() < 5 {
        return None;
    }
    let ip = parse_ip(toks[0])?;
    let flags = u32::from_str_radix(toks[2].strip_prefix("0x")?, 16).ok()?;
    let mac = toks[3].parse::<MacAddr>().ok();
    let state = if flags & 0x4 != 0 {
        NeighbourState::Permanent
    } else if flags & 0x2 != 0 {
        NeighbourState::Complete
    } else {
        NeighbourState::Incomplete
    };
    let mac = mac.filter(|m| !m.is_zero());
    // The device is the last column; the mask column is `*` in practice.
    let iface = if toks.len() >= 6 { Some(toks[toks.len() - 1].to_owned()) } else { None };
    Some(NeighbourEntry { ip, mac, iface, state })
}

/// `ip neigh` row (`ip-neighbour(8)`): `IP [dev IFACE] [lladdr MAC] [router]
/// [proxy] [extern_learn] STATE[,STATE]`. `dev` is omitted under `ip neigh
/// show dev X`. `Deleted`/`Miss` lines from `ip monitor` are not current
/// entries and are skipped.
fn parse_ip_neigh_row(toks: &[&str]) -> Option<NeighbourEntry> {
    let ip = parse_ip(toks[0])?;
    let mut iface = None;
    let mut mac = None;
    let mut state = None;
    let mut lladdr_seen = false;
    let mut i = 1;
    while i < toks.len() {
        match toks[i] {
            "dev" => {
                iface = toks.get(i + 1).map(|s| (*s).to_owned());
                i += 1;
            }
            "lladdr" => {
                lladdr_seen = true;
                mac = toks.get(i + 1).and_then(|s| s.parse::<MacAddr>().ok());
                i += 1;
            }
            t => {
                // States can be joined by commas in newer iproute2 (`STALE,NOARP` is not
                // printed, but `PERMANENT` with flags may be); take the first known word.
                if let Some(s) = t.split(',').find_map(nud_state) {
                    state.get_or_insert(s);
                }
            }
        }
        i += 1;
    }
    let state = state.unwrap_or(if lladdr_seen { NeighbourState::Unknown } else { NeighbourState::Incomplete });
    Some(NeighbourEntry { ip, mac: mac.filter(|m| !m.is_zero()), iface, state })
}

/// `(IP) at MAC ... on IFACE ...` row, shared by net-tools `arp -an`
/// (`? (IP) at MAC [ether] [PERM] on IFACE`, `at <incomplete> on IFACE`) and
/// macOS `arp -an`/`arp -a` (`NAME (IP) at MAC on IFACE [ifscope] [permanent]
/// [ethernet]`, `at (incomplete)`). The name before `(` may be `?` or a
/// hostname; it is ignored.
fn parse_at_row(toks: &[&str]) -> Option<NeighbourEntry> {
    let at = toks.iter().position(|t| *t == "at")?;
    if at == 0 {
        return None;
    }
    let ip = parse_ip(toks[at - 1].strip_prefix('(')?.strip_suffix(')')?)?;
    let hw = *toks.get(at + 1)?;
    let rest = &toks[at + 2..];
    let iface = rest.iter().position(|t| *t == "on").and_then(|p| rest.get(p + 1)).map(|s| (*s).to_owned());
    let permanent = rest.iter().any(|t| *t == "permanent" || *t == "PERM");
    let (mac, state) = if hw == "<incomplete>" || hw == "(incomplete)" {
        (None, NeighbourState::Incomplete)
    } else {
        let mac = hw.parse::<MacAddr>().ok()?;
        if mac.is_zero() {
            (None, NeighbourState::Incomplete)
        } else {
            (Some(mac), if permanent { NeighbourState::Permanent } else { NeighbourState::Complete })
        }
    };
    Some(NeighbourEntry { ip, mac, iface, state })
}

/// net-tools `arp` column row: `Address HWtype HWaddress Flags Mask Iface`,
/// or `Address (incomplete) Iface` (empty HWtype and Flags columns). Flags:
/// `C` complete, `M` permanent, `P` published. Hostname addresses (`arp`
/// without `-n`) cannot be mapped to an IP and are skipped.
fn parse_arp_table_row(toks: &[&str]) -> Option<NeighbourEntry> {
    if toks.len() < 3 {
        return None;
    }
    let ip = parse_ip(toks[0])?;
    let iface = Some(toks[toks.len() - 1].to_owned());
    if toks[1] == "(incomplete)" {
        return Some(NeighbourEntry { ip, mac: None, iface, state: NeighbourState::Incomplete });
    }
    let hw = toks[1..].iter().find_map(|t| t.parse::<MacAddr>().ok())?;
    let flags_pos = toks.iter().position(|t| t.parse::<MacAddr>().is_ok()).map_or(0, |p| p + 1);
    let flags = toks.get(flags_pos).filter(|_| flags_pos < toks.len() - 1).copied().unwrap_or("");
    let state = if flags.chars().all(|c| c.is_ascii_uppercase()) && flags.contains('M') {
        NeighbourState::Permanent
    } else {
        NeighbourState::Complete
    };
    let (mac, state) = if hw.is_zero() { (None, NeighbourState::Incomplete) } else { (Some(hw), state) };
    Some(NeighbourEntry { ip, mac, iface, state })
}

/// macOS `ndp -an` row: `Neighbor Linklayer-Address Netif Expire St [Flgs]
/// [Prbs]`. St letters (`ndp(8)`): R reachable, S stale, D delay, P probe,
/// I incomplete, N no state, W waiting for deletion.
fn parse_ndp_row(toks: &[&str]) -> Option<NeighbourEntry> {
    if toks.len() < 3 {
        return None;
    }
    let ip = parse_ip(toks[0])?;
    let iface = Some(toks[2].to_owned());
    let st = toks.get(4).copied().unwrap_or("");
    let expire = toks.get(3).copied().unwrap_or("");
    if toks[1] == "(incomplete)" {
        return Some(NeighbourEntry { ip, mac: None, iface, state: NeighbourState::Incomplete });
    }
    let mac = toks[1].parse::<MacAddr>().ok()?;
    let state = if expire == "permanent" {
        NeighbourState::Permanent
    } else {
        match st {
            "R" => NeighbourState::Reachable,
            "S" => NeighbourState::Stale,
            "D" => NeighbourState::Delay,
            "P" => NeighbourState::Probe,
            "I" => NeighbourState::Incomplete,
            _ => NeighbourState::Unknown,
        }
    };
    Some(NeighbourEntry { ip, mac: Some(mac).filter(|m| !m.is_zero()), iface, state })
}

/// Layout of the macOS routing messages read by [`parse_route_sysctl`], from
/// Apple's xnu headers (`bsd/net/route.h`, `bsd/net/if_dl.h`,
/// `bsd/sys/socket.h`, `bsd/netinet/in.h`) and the way `arp(8)`
/// (network_cmds `arp.tproj/arp.c`, `search()`) walks them. Every Mac
/// (x86_64, arm64) is little-endian; the layout is the same on both.
///
/// `struct rt_msghdr` (92 bytes): `u16 rtm_msglen` @0, `u8 rtm_version` @2,
/// `u8 rtm_type` @3, `u16 rtm_index` @4, 2 bytes of padding, `i32 rtm_flags`
/// @8, `i32 rtm_addrs` @12, `i32 rtm_pid` @16, `i32 rtm_seq` @20,
/// `i32 rtm_errno` @24, `i32 rtm_use` @28, `u32 rtm_inits` @32, then
/// `struct rt_metrics` @36: 14 × 32 bits (`rmx_locks`, `rmx_mtu`,
/// `rmx_hopcount`, `i32 rmx_expire` @48, `rmx_recvpipe`, `rmx_sendpipe`,
/// `rmx_ssthresh`, `rmx_rtt`, `rmx_rttvar`, `rmx_pksent`, then `rmx_state` +
/// `rmx_filler[3]` or `rmx_filler[4]` depending on the xnu release).
pub mod rt {
    /// `sizeof(struct rt_msghdr)` on macOS, in bytes.
    pub const RT_MSGHDR_LEN: usize = 92;
    /// Offset of `rtm_rmx.rmx_expire` (`i32`, seconds of `net_uptime`; 0 = permanent).
    pub const RMX_EXPIRE_OFFSET: usize = 48;
    /// `RTM_VERSION`: the only message version the kernel writes (and `arp(8)` reads).
    pub const RTM_VERSION: u8 = 5;
    /// `RTA_DST`: the destination sockaddr (the neighbour's `sockaddr_in`) is present.
    pub const RTA_DST: i32 = 0x1;
    /// `RTA_GATEWAY`: the gateway sockaddr (the link-layer `sockaddr_dl`) is present.
    pub const RTA_GATEWAY: i32 = 0x2;
    /// `RTAX_MAX`: the number of sockaddr slots `rtm_addrs` can announce.
    pub const RTAX_MAX: u32 = 8;
    /// `AF_INET`.
    pub const AF_INET: u8 = 2;
    /// `AF_LINK` (`sockaddr_dl`).
    pub const AF_LINK: u8 = 18;
    /// `CTL_NET`, the first MIB component.
    pub const CTL_NET: i32 = 4;
    /// `PF_ROUTE` (= `AF_ROUTE`), the second.
    pub const PF_ROUTE: i32 = 17;
    /// `NET_RT_FLAGS`: dump the routes whose flags include the sixth component.
    pub const NET_RT_FLAGS: i32 = 2;
    /// `RTF_LLINFO`: routes generated by the link layer (ARP entries).
    pub const RTF_LLINFO: i32 = 0x400;
    /// The MIB `arp(8)` reads: `{CTL_NET, PF_ROUTE, 0, AF_INET, NET_RT_FLAGS, RTF_LLINFO}`.
    pub const ARP_MIB: [i32; 6] = [CTL_NET, PF_ROUTE, 0, AF_INET as i32, NET_RT_FLAGS, RTF_LLINFO];
    /// `sizeof(struct sockaddr_dl)` before `sdl_data`: `sdl_len`, `sdl_family`, `u16 sdl_index`,
    /// `sdl_type`, `sdl_nlen`, `sdl_alen`, `sdl_slen`.
    pub const SDL_DATA_OFFSET: usize = 8;

    /// Sockaddrs in a routing message are padded to 4 bytes (`ROUNDUP` with `sizeof(uint32_t)`
    /// in `arp.c` and `route.c`); a zero length still takes 4 bytes.
    pub fn roundup(sa_len: usize) -> usize {
        if sa_len == 0 {
            4
        } else {
            (sa_len + 3) & !3
        }
    }
}

/// Parses the bytes the macOS `NET_RT_FLAGS`/`RTF_LLINFO` sysctl returns
/// ([`rt::ARP_MIB`]): a sequence of routing messages, each an `rt_msghdr`
/// followed by the sockaddrs its `rtm_addrs` announces, `RTA_DST` (the
/// neighbour's `sockaddr_in`) first and `RTA_GATEWAY` (its `sockaddr_dl`)
/// second, each padded to 4 bytes ([`rt::roundup`]); the next message starts
/// `rtm_msglen` bytes after the start of this one. Layout: [`rt`].
///
/// Each readable message gives one IPv4 [`NeighbourEntry`]: the MAC is the
/// `sockaddr_dl`'s link-layer address (`LLADDR` = `sdl_data + sdl_nlen`,
/// `sdl_alen` bytes) when it is 6 bytes and not zero; `sdl_alen` 0 is an
/// incomplete entry (`arp -an` prints `(incomplete)`), another length a
/// non-Ethernet link (state `Unknown`, no MAC). `rmx_expire` 0 means
/// permanent (as `arp -an` prints it), else `Complete`. The interface name
/// is `sdl_data[..sdl_nlen]` when the kernel gives one (often it gives only
/// `sdl_index`: then `iface` is `None`).
///
/// Never panics and never reads past `bytes`. A message that cannot be read
/// (another `rtm_version`, no `RTA_DST`/`RTA_GATEWAY`, a destination that is
/// not `AF_INET` or a gateway that is not `AF_LINK`, a sockaddr or link
/// address running past its message) is counted in
/// [`NeighbourTable::skipped_lines`] (one per message) and skipped by its
/// `rtm_msglen`; a message shorter than its header or running past the end
/// of `bytes` (a truncated buffer) ends the walk and counts as one skipped.
pub fn parse_route_sysctl(bytes: &[u8]) -> NeighbourTable {
    let mut table = NeighbourTable { format: Some(NeighbourFormat::RouteSysctl), entries: Vec::new(), skipped_lines: 0 };
    let mut at = 0usize;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let msglen = match rest.get(..2) {
            Some(b) => usize::from(u16::from_le_bytes([b[0], b[1]])),
            None => 0,
        };
        if msglen < rt::RT_MSGHDR_LEN || msglen > rest.len() {
            table.skipped_lines += 1;
            break;
        }
        match route_message(&rest[..msglen]) {
            Some(e) => table.entries.push(e),
            None => table.skipped_lines += 1,
        }
        at += msglen;
    }
    table
}

/// One routing message of [`parse_route_sysctl`] (exactly `rtm_msglen` bytes, at least the header).
fn route_message(m: &[u8]) -> Option<NeighbourEntry> {
    let i32_at = |o: usize| m.get(o..o + 4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if m.get(2) != Some(&rt::RTM_VERSION) {
        return None;
    }
    let addrs = i32_at(12)?;
    let expire = i32_at(rt::RMX_EXPIRE_OFFSET)?;
    if addrs & rt::RTA_DST == 0 || addrs & rt::RTA_GATEWAY == 0 {
        return None;
    }
    // The sockaddrs in RTAX order; only DST (slot 0) and GATEWAY (slot 1) are read.
    let mut p = rt::RT_MSGHDR_LEN;
    let mut dst: Option<&[u8]> = None;
    let mut gw: Option<&[u8]> = None;
    for slot in 0..2u32 {
        if addrs & (1 << slot) == 0 {
            continue;
        }
        let sa_len = usize::from(*m.get(p)?);
        let sa = m.get(p..p.checked_add(sa_len)?)?;
        if slot == 0 {
            dst = Some(sa);
        } else {
            gw = Some(sa);
        }
        p = p.checked_add(rt::roundup(sa_len))?;
    }
    let (dst, gw) = (dst?, gw?);
    // sockaddr_in: sin_len, sin_family, u16 sin_port, sin_addr (network order) @4.
    if dst.get(1) != Some(&rt::AF_INET) {
        return None;
    }
    let a = dst.get(4..8)?;
    let ip = IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]));
    // sockaddr_dl: name then link-layer address inside sdl_data, within sdl_len.
    if gw.get(1) != Some(&rt::AF_LINK) || gw.len() < rt::SDL_DATA_OFFSET {
        return None;
    }
    let (nlen, alen) = (usize::from(gw[5]), usize::from(gw[6]));
    let data = &gw[rt::SDL_DATA_OFFSET..];
    let name = data.get(..nlen)?;
    let ll = data.get(nlen..nlen + alen)?;
    let iface = (!name.is_empty()).then(|| String::from_utf8_lossy(name).into_owned());
    let (mac, state) = match ll {
        [] => (None, NeighbourState::Incomplete),
        [a, b, c, d, e, f] => {
            let mac = MacAddr([*a, *b, *c, *d, *e, *f]);
            if mac.is_zero() {
                (None, NeighbourState::Incomplete)
            } else if expire == 0 {
                (Some(mac), NeighbourState::Permanent)
            } else {
                (Some(mac), NeighbourState::Complete)
            }
        }
        _ => (None, NeighbourState::Unknown),
    };
    Some(NeighbourEntry { ip, mac, iface, state })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(s: &str) -> MacAddr {
        s.parse().unwrap_or(MacAddr::ZERO)
    }
    fn v4(s: &str) -> Ipv4Addr {
        s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    #[test]
    fn proc_net_arp_flags() {
        let t = "IP address       HW type     Flags       HW address            Mask     Device\n\
                 192.168.122.5    0x1         0x2         52:54:00:aa:bb:cc     *        virbr0\n\
                 192.168.122.6    0x1         0x0         00:00:00:00:00:00     *        virbr0\n\
                 192.168.122.7    0x1         0x6         52:54:00:aa:bb:cd     *        virbr0\n";
        assert_eq!(detect_format(t), Some(NeighbourFormat::ProcNetArp));
        let n = parse(t);
        assert_eq!(n.skipped_lines, 0);
        let st: Vec<_> = n.entries.iter().map(|e| e.state).collect();
        assert_eq!(st, [NeighbourState::Complete, NeighbourState::Incomplete, NeighbourState::Permanent]);
        assert_eq!(n.entries[1].mac, None);
        assert_eq!(n.entries[0].iface.as_deref(), Some("virbr0"));
        assert_eq!(n.ipv4_for(mac("52:54:00:aa:bb:cc")), [v4("192.168.122.5")]);
        assert_eq!(n.ipv4_for(mac("52:54:00:aa:bb:cd")), [v4("192.168.122.7")]);
    }

    #[test]
    fn ip_neigh_states_and_ipv6() {
        let t = "192.168.122.11 dev virbr0 lladdr 52:54:00:6e:91:c3 STALE\n\
                 172.17.0.9 dev docker0  INCOMPLETE\n\
                 10.0.0.9 dev br0  FAILED\n\
                 10.0.0.1 dev lo lladdr 00:00:00:00:00:00 NOARP\n\
                 10.0.0.2 dev br0 lladdr 52:54:00:00:00:02 PERMANENT\n\
                 10.0.0.3 dev br0 lladdr 52:54:00:00:00:03 PROBE\n\
                 fe80::5054:ff:fe6e:91c3 dev virbr0 lladdr 52:54:00:6e:91:c3 router REACHABLE\n\
                 10.0.0.4 lladdr 52:54:00:00:00:04 REACHABLE\n";
        assert_eq!(detect_format(t), Some(NeighbourFormat::IpNeigh));
        let n = parse(t);
        assert_eq!(n.skipped_lines, 0);
        assert_eq!(n.entries.len(), 8);
        assert_eq!(n.entries[1].state, NeighbourState::Incomplete);
        assert_eq!(n.entries[1].mac, None);
        assert_eq!(n.entries[2].state, NeighbourState::Failed);
        assert_eq!(n.entries[3].state, NeighbourState::Noarp);
        assert_eq!(n.entries[3].mac, None, "zero MAC is no MAC");
        assert_eq!(n.entries[6].state, NeighbourState::Reachable);
        assert!(n.entries[6].ip.is_ipv6());
        assert_eq!(n.ipv4_for(mac("52:54:00:6e:91:c3")), [v4("192.168.122.11")]);
        assert_eq!(n.ipv4_for(mac("52:54:00:00:00:02")), [v4("10.0.0.2")]);
        assert_eq!(n.ipv4_for(mac("52:54:00:00:00:03")), [v4("10.0.0.3")]);
        assert_eq!(n.ipv4_for(mac("52:54:00:00:00:04")), [v4("10.0.0.4")]);
        assert!(n.macs_for(v4("172.17.0.9")).is_empty());
    }

    #[test]
    fn ip_s_neigh_statistics_and_show_dev() {
        // `ip -s neigh` adds `ref`/`used`/`probes`; `ip neigh show dev X` drops `dev`.
        let t = "192.168.122.11 dev virbr0 lladdr 52:54:00:6e:91:c3 ref 1 used 12/12/3 probes 1 REACHABLE\n\
                 192.168.122.12 lladdr 52:54:00:6e:91:c4 used 5/5/5 probes 6 FAILED\n\
                 10.0.0.1 dev eth0 proxy\n";
        let n = parse(t);
        assert_eq!(n.format, Some(NeighbourFormat::IpNeigh));
        assert_eq!(n.entries.len(), 3);
        assert_eq!(n.entries[0].state, NeighbourState::Reachable);
        assert_eq!(n.entries[1].iface, None);
        assert_eq!(n.entries[1].state, NeighbourState::Failed);
        assert!(n.ipv4_for(mac("52:54:00:6e:91:c4")).is_empty(), "FAILED keeps no mapping even with lladdr");
        assert_eq!(n.entries[2].state, NeighbourState::Incomplete);
        assert_eq!(n.ipv4_for(mac("52:54:00:6e:91:c3")), [v4("192.168.122.11")]);
    }

    #[test]
    fn ip_neigh_json() {
        let t = r#"[{"dst":"192.168.122.11","dev":"virbr0","lladdr":"52:54:00:6e:91:c3","state":["STALE"]},
            {"dst":"172.17.0.9","dev":"docker0","state":["INCOMPLETE"]},
            {"dst":"fe80::250:56ff:fea2:17fe","dev":"ens32","lladdr":"00:50:56:a2:17:fe","router":null,"state":["STALE"]},
            {"dev":"x"}]"#;
        assert_eq!(detect_format(t), Some(NeighbourFormat::IpNeighJson));
        let n = parse(t);
        assert_eq!(n.entries.len(), 3);
        assert_eq!(n.skipped_lines, 1);
        assert_eq!(n.entries[1].state, NeighbourState::Incomplete);
        assert_eq!(n.ipv4_for(mac("52:54:00:6e:91:c3")), [v4("192.168.122.11")]);
        assert!(n.ipv4_for(mac("00:50:56:a2:17:fe")).is_empty());
        let broken = parse("[{\"dst\": ");
        assert_eq!((broken.format, broken.entries.len(), broken.skipped_lines), (Some(NeighbourFormat::IpNeighJson), 0, 1));
        assert_eq!(parse("[]\n").skipped_lines, 0);
    }

    #[test]
    fn linux_arp_an_variants() {
        let t = "? (192.168.122.11) at 52:54:00:6e:91:c3 [ether] on virbr0\n\
                 ? (172.17.0.9) at <incomplete> on docker0\n\
                 ? (10.17.44.236) at <incomplete> [ether] on wlp3s0\n\
                 gw.lan (10.0.0.1) at 52:54:00:00:00:01 [ether] PERM on eth0\n";
        assert_eq!(detect_format(t), Some(NeighbourFormat::LinuxArpAn));
        let n = parse(t);
        assert_eq!(n.skipped_lines, 0);
        assert_eq!(n.entries[1].state, NeighbourState::Incomplete);
        assert_eq!(n.entries[2].iface.as_deref(), Some("wlp3s0"));
        assert_eq!(n.entries[3].state, NeighbourState::Permanent);
        assert_eq!(n.ipv4_for(mac("52:54:00:6e:91:c3")), [v4("192.168.122.11")]);
    }

    #[test]
    fn linux_arp_table() {
        let t = "Address                  HWtype  HWaddress           Flags Mask            Iface\n\
                 192.168.1.24             ether   0c:8b:7d:2a:96:4e   C                     wlo1\n\
                 10.250.204.17                    (incomplete)                              mpqemubr0\n\
                 192.168.1.30             ether   52:54:00:00:00:30   CM                    br0\n\
                 _gateway                 ether   52:54:00:00:00:31   C                     br0\n";
        assert_eq!(detect_format(t), Some(NeighbourFormat::LinuxArpTable));
        let n = parse(t);
        assert_eq!(n.entries.len(), 3);
        assert_eq!(n.skipped_lines, 1, "hostname row has no IP");
        assert_eq!(n.entries[1].state, NeighbourState::Incomplete);
        assert_eq!(n.entries[1].iface.as_deref(), Some("mpqemubr0"));
        assert_eq!(n.entries[2].state, NeighbourState::Permanent);
        assert_eq!(n.macs_for(v4("192.168.1.24")), [mac("0c:8b:7d:2a:96:4e")]);
    }

    #[test]
    fn macos_arp_hostnames_and_flags() {
        let t = "\nhost.local (10.33.16.44) at 52:54:0:c:3:9 on en0 ifscope [ethernet]\n\
                 ? (10.33.16.68) at (incomplete) on bridge100 ifscope [bridge]\n\
                 ? (10.33.16.69) at b6:70:2c:9d:41:e8 on en0 ifscope permanent [ethernet]\n\
                 x.local (169.254.3.244) at d6:31:0:8e:45:12 on en7 permanent [ethernet]\n\
                 ? (224.0.0.251) at 1:0:5e:0:0:fb on en0 ifscope permanent [ethernet]";
        assert_eq!(detect_format(t), Some(NeighbourFormat::MacosArp));
        let n = parse(t);
        assert_eq!(n.skipped_lines, 0);
        assert_eq!(n.entries.len(), 5);
        assert_eq!(n.ipv4_for(mac("52:54:00:0c:03:09")), [v4("10.33.16.44")]);
        assert_eq!(n.entries[1].state, NeighbourState::Incomplete);
        assert_eq!(n.entries[2].state, NeighbourState::Permanent);
        assert_eq!(n.entries[3].iface.as_deref(), Some("en7"));
        assert!(n.ipv4_for(mac("d6:31:00:8e:45:12")).is_empty(), "link-local is not a VM address");
        assert!(n.ipv4_for(mac("01:00:5e:00:00:fb")).is_empty(), "multicast MAC");
    }

    #[test]
    fn macos_ndp() {
        let t = "Neighbor                             Linklayer Address  Netif Expire    St Flgs Prbs\n\
                 fe80::1%lo0                          (incomplete)         lo0 permanent R\n\
                 fe80::5054:ff:fe0c:309%bridge100     52:54:0:c:3:9  bridge100 23h59m58s S\n\
                 2001:db8::5                          52:54:0:c:3:9  bridge100 permanent R\n\
                 fe80::1c8e:6a2c:b5d3:a56c%en0        8c:85:90:8:ba:a3     en0 4s        R R\n";
        assert_eq!(detect_format(t), Some(NeighbourFormat::MacosNdp));
        let n = parse(t);
        assert_eq!(n.skipped_lines, 0);
        assert_eq!(n.entries.len(), 4);
        assert_eq!(n.entries[0].state, NeighbourState::Incomplete);
        assert_eq!(n.entries[1].state, NeighbourState::Stale);
        assert_eq!(n.entries[1].iface.as_deref(), Some("bridge100"));
        assert_eq!(n.entries[2].state, NeighbourState::Permanent);
        assert_eq!(n.entries[3].state, NeighbourState::Reachable);
        assert!(n.ipv4_for(mac("52:54:00:0c:03:09")).is_empty(), "IPv6 only");
    }

    #[test]
    fn whitespace_crlf_tabs_garbage() {
        let t = "\r\n  192.168.122.11\tdev virbr0   lladdr\t52:54:00:6e:91:c3  STALE  \r\n\
                 this is not a row\r\n\
                 ### 1.2.3\r\n";
        let n = parse(t);
        assert_eq!(n.format, Some(NeighbourFormat::IpNeigh));
        assert_eq!(n.entries.len(), 1);
        assert_eq!(n.skipped_lines, 2);
        assert_eq!(n.entries[0].iface.as_deref(), Some("virbr0"));
    }

    #[test]
    fn unknown_text() {
        let n = parse("hello\nworld\n\n");
        assert_eq!(n.format, None);
        assert!(n.entries.is_empty());
        assert_eq!(n.skipped_lines, 2);
        assert_eq!(parse("").skipped_lines, 0);
    }

    #[test]
    fn parse_as_wrong_format_skips_not_guesses() {
        let t = "192.168.122.11 dev virbr0 lladdr 52:54:00:6e:91:c3 STALE\n";
        let n = parse_as(t, NeighbourFormat::ProcNetArp);
        assert!(n.entries.is_empty());
        assert_eq!(n.skipped_lines, 1);
    }

    #[test]
    fn ambiguity_and_unique() {
        let t = "? (192.168.64.5) at 56:3d:f6:7f:39:a7 on bridge100 ifscope [bridge]\n\
                 ? (192.168.64.6) at 56:3d:f6:7f:39:a7 on bridge100 ifscope [bridge]\n\
                 ? (192.168.64.6) at 56:3d:f6:7f:39:a7 on bridge100 ifscope [bridge]\n\
                 ? (192.168.64.3) at 52:54:0:a4:b:55 on bridge100 ifscope [bridge]\n";
        let n = parse(t);
        let m = mac("56:3d:f6:7f:39:a7");
        assert_eq!(n.ipv4_for(m), [v4("192.168.64.5"), v4("192.168.64.6")], "dedup, keep order");
        assert_eq!(n.unique_ipv4_for(m), None);
        assert_eq!(n.unique_ipv4_for(mac("52:54:00:a4:0b:55")), Some(v4("192.168.64.3")));
    }

    #[test]
    fn usable_vm_ipv4() {
        for bad in ["0.0.0.0", "0.1.2.3", "127.0.0.1", "169.254.169.254", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255"] {
            assert!(!is_usable_vm_ipv4(v4(bad)), "{bad}");
        }
        for good in ["10.0.2.15", "192.168.64.3", "172.17.0.2", "100.64.0.1", "198.51.100.136", "169.253.1.1", "223.255.255.254"] {
            assert!(is_usable_vm_ipv4(v4(good)), "{good}");
        }
    }
}
