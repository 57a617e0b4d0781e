//! DHCP leases handed out by the host's DHCP server, parsed without IO.
//!
//! When the host runs the DHCP server of the VM's network (macOS vmnet's
//! bootpd, libvirt's or multipass's dnsmasq), its lease records map the VM
//! NIC's MAC (and often its hostname) to the IPv4 it was given.
//!
//! | [`LeaseFormat`] | file or command | documented source |
//! |---|---|---|
//! | [`Bootpd`](LeaseFormat::Bootpd) | macOS `/var/db/dhcpd_leases` | `bootpd(8)`; blocks of `key=value` lines written by bootpd's `subnets`/`dhcpd` code |
//! | [`Dnsmasq`](LeaseFormat::Dnsmasq) | `dnsmasq.leases` | `dnsmasq(8)` `--dhcp-leasefile`; line format from `lease.c` (`lease_update_file`) |
//! | [`LibvirtStatus`](LeaseFormat::LibvirtStatus) | `/var/lib/libvirt/dnsmasq/virbrN.status` | libvirt `src/network/leaseshelper.c` (JSON array) |
//! | [`VirshNetDhcpLeases`](LeaseFormat::VirshNetDhcpLeases) | `virsh net-dhcp-leases NET` | `virsh(1)` |
//! | [`DnsmasqLog`](LeaseFormat::DnsmasqLog) | syslog / journal of `dnsmasq-dhcp` | `dnsmasq(8)` `log_packet()` lines `DHCPACK(iface) IP MAC [name]` |
//!
//! Parsers take `&str` and never panic: callers with bytes that may not be
//! UTF-8 use `String::from_utf8_lossy` (all fields read are ASCII). Records
//! that cannot be read are counted in [`LeaseFile::skipped`], never guessed.
//! Only IPv4 leases are returned; IPv6 lease records are counted as skipped.
//!
//! Which lease is a VM's current one is decided in one place,
//! [`LeaseFile::decide`] (the engine and `vmbar inspect leases` call it);
//! [`LeaseFile::for_mac`] and [`LeaseFile::for_name`] are plain lookups.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use chrono::{NaiveDateTime, TimeZone};

use crate::mac::MacAddr;

/// Which DHCP server (or tool) wrote the leases (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseFormat {
    /// macOS bootpd `/var/db/dhcpd_leases`: `{ name= ip_address= hw_address= identifier= lease= }` blocks.
    Bootpd,
    /// dnsmasq lease file: `EXPIRY MAC IP HOSTNAME CLIENTID` lines.
    Dnsmasq,
    /// libvirt `virbrN.status`: a JSON array of `{ip-address, mac-address, hostname?, client-id?, expiry-time}`.
    LibvirtStatus,
    /// `virsh net-dhcp-leases` table: `Expiry Time | MAC address | Protocol | IP address | Hostname | Client ID or DUID`.
    VirshNetDhcpLeases,
    /// dnsmasq-dhcp log lines (syslog or journal): `DHCPACK(iface) IP MAC [hostname]`.
    DnsmasqLog,
}

/// One IPv4 DHCP lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The leased address.
    pub ip: Ipv4Addr,
    /// The client's EUI-48 hardware address; `None` when the record keys the
    /// lease by something else (bootpd `hw_address=ff,…` DUID client id,
    /// dnsmasq `*` or a non-Ethernet hardware type).
    pub mac: Option<MacAddr>,
    /// The hostname the client sent, when any (`*`/`-` mean none).
    pub hostname: Option<String>,
    /// The DHCP client identifier as written (`01:52:54:…`, `ff:…` DUID, bootpd `identifier=`).
    pub client_id: Option<String>,
    /// The MAC embedded in a DUID-LL or DUID-LLT client identifier (RFC 4361
    /// `ff` + IAID + DUID, RFC 8415 §11.2/§11.4 with hardware type 1). This is
    /// a hint only: a DUID-LLT keeps the MAC of whichever NIC existed when it
    /// was generated (a cloned image keeps its template's), so it is never
    /// used by [`LeaseFile::for_mac`].
    pub duid_mac: Option<MacAddr>,
    /// Expiry as Unix seconds (UTC); `None` for infinite leases or records
    /// without an expiry (dnsmasq log lines).
    pub expires: Option<i64>,
    /// The format the lease was read from.
    pub format: LeaseFormat,
}

impl Lease {
    /// True when the lease is still valid at `now` (Unix seconds): no expiry, or expiry after `now`.
    pub fn is_active(&self, now: i64) -> bool {
        self.expires.is_none_or(|e| e > now)
    }
}

/// A parsed lease file (or command output, or log excerpt).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaseFile {
    /// The format the text was read as; `None` when detection found nothing.
    pub format: Option<LeaseFormat>,
    /// The IPv4 leases in input order (for [`LeaseFormat::DnsmasqLog`], one
    /// per DHCPACK not followed by a DHCPRELEASE of the same address and MAC).
    pub leases: Vec<Lease>,
    /// Records that could not be read: garbage lines, partial bootpd blocks,
    /// IPv6 leases, JSON elements without a usable IPv4 (1 for JSON that does
    /// not parse at all).
    pub skipped: usize,
}

impl LeaseFile {
    /// A plain lookup, not the lease rule (that is [`LeaseFile::decide`]):
    /// active leases (see [`Lease::is_active`]) whose `mac` is `mac`, newest
    /// first: infinite/unknown expiry first, then latest expiry; ties keep the
    /// later record first (a later log line or file entry is the newer one).
    pub fn for_mac(&self, mac: MacAddr, now: i64) -> Vec<&Lease> {
        newest_first(self.leases.iter().filter(|l| l.mac == Some(mac) && l.is_active(now)))
    }

    /// Active leases whose hostname equals `name` (ASCII case-insensitive,
    /// whole name: `primary` does not match `primary2` or `primary.local`; a
    /// trailing dot is ignored), newest first as in [`LeaseFile::for_mac`].
    pub fn for_name(&self, name: &str, now: i64) -> Vec<&Lease> {
        let name = name.trim().trim_end_matches('.');
        if name.is_empty() {
            return Vec::new();
        }
        newest_first(self.leases.iter().filter(|l| {
            l.is_active(now) && l.hostname.as_deref().is_some_and(|h| h.trim_end_matches('.').eq_ignore_ascii_case(name))
        }))
    }

    /// The lease rule: which of this file's leases is the VM's current one.
    /// The engine (candidates) and `vmbar inspect leases` both call this and
    /// nothing else, so they cannot disagree.
    ///
    /// `mac` is the VM NIC's MAC, `name` its name or hostname (ASCII
    /// case-insensitive, whole name, trailing dot ignored; blank = none), and
    /// `now` the time (Unix seconds) at which expiry is judged; `None` does not
    /// judge expiry (a captured file read later), supersession is always judged.
    ///
    /// A lease is **the VM's** ([`LeaseMatch`]) when it is keyed by `mac`
    /// (hardware address or `01:`+MAC client id), or keyed by a DUID client id
    /// (`mac: None`) whose DUID-LLT/DUID-LL embeds `mac` ([`Lease::duid_mac`]),
    /// or keyed by a DUID client id and its hostname is `name`. A lease keyed
    /// by another MAC is another NIC's and never the VM's (when `mac` is `None`,
    /// the name alone decides).
    ///
    /// Each of the VM's leases then gets one [`LeaseVerdict`]:
    /// - [`Superseded`](LeaseVerdict::Superseded): it is keyed by a MAC and a
    ///   strictly newer lease (later expiry; for a dnsmasq log, a later line)
    ///   carries the same hostname under a DUID client id (no MAC). This is
    ///   macOS 15 bootpd's pattern (vfkit #242, Tart's FAQ): the guest now sends
    ///   a DUID client id, and its MAC still keys the lease of an earlier boot.
    ///   The lease's own hostname says it, so no `name` is needed. A newer lease
    ///   of another MAC with the same hostname does not supersede (another NIC,
    ///   e.g. a clone that kept the template's hostname);
    /// - [`Expired`](LeaseVerdict::Expired): `now` is given and
    ///   [`Lease::is_active`] is false;
    /// - [`Current`](LeaseVerdict::Current): the newest of the rest (infinite
    ///   expiry first, then latest expiry; ties go to the MAC-keyed one, then
    ///   the DUID-embedded one, then the later record), which
    ///   [`LeaseDecision::current`] returns, unless it is older than a lease
    ///   that superseded one of the VM's (the guest uses that client id now,
    ///   so everything it held before is stale): then nothing is current
    ///   unless that newer lease is itself the VM's (by name or DUID);
    /// - [`Older`](LeaseVerdict::Older): the rest (an earlier lease of the
    ///   same VM, e.g. its MAC-keyed lease once a DUID-keyed one embedding the
    ///   same MAC is newer).
    ///
    /// Name and DUID matches are weaker evidence than the MAC (cloned images
    /// share DUIDs and hostnames): the engine still confirms the current
    /// lease's address with a probe and the neighbour table.
    pub fn decide(&self, mac: Option<MacAddr>, name: Option<&str>, now: Option<i64>) -> LeaseDecision<'_> {
        let name = name.map(|n| n.trim().trim_end_matches('.')).filter(|n| !n.is_empty());
        let same_host = |l: &Lease, n: &str| l.hostname.as_deref().is_some_and(|h| h.trim_end_matches('.').eq_ignore_ascii_case(n));
        let mut mine: Vec<(usize, &Lease, LeaseMatch)> = Vec::new();
        for (i, l) in self.leases.iter().enumerate() {
            let by = match (l.mac, mac) {
                (Some(m), Some(want)) if m == want => Some(LeaseMatch::Mac),
                (Some(_), Some(_)) => None,
                (None, Some(want)) if l.duid_mac == Some(want) => Some(LeaseMatch::DuidMac),
                (_, _) => name.filter(|n| same_host(l, n)).map(|_| LeaseMatch::Name),
            };
            if let Some(by) = by {
                mine.push((i, l, by));
            }
        }
        let newer = |(ia, a): (usize, &Lease), (ib, b): (usize, &Lease)| match (a.expires, b.expires) {
            (Some(x), Some(y)) => x > y,
            (None, None) => a.format == LeaseFormat::DnsmasqLog && b.format == LeaseFormat::DnsmasqLog && ia > ib,
            _ => false,
        };
        // Per hostname (and expiry known or not), the newest DUID-keyed lease and the newest one
        // under a different client id: enough to find, in one pass, the newest lease that carries
        // a hostname under a client id other than a given one (linear, whatever the file holds).
        type Top2<'a> = [Option<(usize, &'a Lease)>; 2];
        let mut duid_by_host: HashMap<(String, bool), Top2<'_>> = HashMap::new();
        if mine.iter().any(|(_, l, by)| l.hostname.is_some() && *by != LeaseMatch::Name) {
            for (i, l) in self.leases.iter().enumerate() {
                let (None, Some(h)) = (l.mac, l.hostname.as_deref()) else { continue };
                let key = |(j, x): (usize, &Lease)| (x.expires, j);
                let top = duid_by_host.entry((h.trim_end_matches('.').to_ascii_lowercase(), l.expires.is_some())).or_default();
                match top[0] {
                    None => top[0] = Some((i, l)),
                    Some(first) if key((i, l)) > key(first) => {
                        if first.1.client_id != l.client_id {
                            top[1] = Some(first);
                        }
                        top[0] = Some((i, l));
                    }
                    Some(first) => {
                        if first.1.client_id != l.client_id && top[1].is_none_or(|second| key((i, l)) > key(second)) {
                            top[1] = Some((i, l));
                        }
                    }
                }
            }
        }
        let mut judged: Vec<(usize, JudgedLease<'_>)> = Vec::with_capacity(mine.len());
        let mut displaced_by: Option<(usize, &Lease)> = None;
        for (i, l, by) in mine {
            // A lease that carries the VM's MAC (keyed by it, or a DUID embedding it) is
            // superseded by a newer DUID-keyed lease of its hostname under another client id.
            let superseded_by = match (by, l.hostname.as_deref()) {
                (LeaseMatch::Mac | LeaseMatch::DuidMac, Some(h)) => duid_by_host
                    .get(&(h.trim_end_matches('.').to_ascii_lowercase(), l.expires.is_some()))
                    .and_then(|top| top.iter().flatten().find(|(_, s)| s.client_id != l.client_id).copied())
                    .filter(|&(j, s)| newer((j, s), (i, l))),
                _ => None,
            };
            let verdict = match superseded_by {
                Some((j, s)) => {
                    if displaced_by.is_none_or(|(k, d)| newer((j, s), (k, d))) {
                        displaced_by = Some((j, s));
                    }
                    LeaseVerdict::Superseded { by: s }
                }
                None if now.is_some_and(|t| !l.is_active(t)) => LeaseVerdict::Expired,
                None => LeaseVerdict::Older,
            };
            judged.push((i, JudgedLease { lease: l, matched: by, verdict }));
        }
        // Newest first: infinite, then latest expiry, then the stronger match, then the later record.
        judged.sort_by(|(ia, a), (ib, b)| {
            let key = |i: usize, j: &JudgedLease<'_>| (j.lease.expires.is_none(), j.lease.expires.unwrap_or(i64::MIN), std::cmp::Reverse(j.matched), i);
            key(*ib, b).cmp(&key(*ia, a))
        });
        // `displaced_by`, the newest lease that displaced one of the VM's: the VM holds its
        // address under that client id now, so none of its leases older than it can be current.
        let mut current = None;
        for (i, j) in judged.iter_mut() {
            let after_displacement = displaced_by.is_none_or(|(k, d)| std::ptr::eq(d, j.lease) || newer((*i, j.lease), (k, d)));
            if current.is_none() && j.verdict == LeaseVerdict::Older && after_displacement {
                j.verdict = LeaseVerdict::Current;
                current = Some(j.lease);
            }
        }
        LeaseDecision { current, leases: judged.into_iter().map(|(_, j)| j).collect() }
    }

    /// The distinct IPv4 addresses of [`LeaseFile::for_mac`], newest first.
    pub fn ipv4_for(&self, mac: MacAddr, now: i64) -> Vec<Ipv4Addr> {
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<Ipv4Addr> = Vec::new();
        for l in self.for_mac(mac, now) {
            if seen.insert(l.ip) {
                out.push(l.ip);
            }
        }
        out
    }
}

/// How a lease was tied to the VM in [`LeaseFile::decide`], strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LeaseMatch {
    /// Keyed by the VM's MAC (hardware address, or an `01:`+MAC client id).
    Mac,
    /// Keyed by a DUID client id (no MAC) whose DUID-LLT/DUID-LL embeds the VM's MAC.
    DuidMac,
    /// Keyed by a DUID client id (or any key when the VM's MAC is unknown) with the VM's name as hostname.
    Name,
}

impl LeaseMatch {
    /// `mac`, `duid_mac` or `name` (the `vmbar inspect leases` JSON spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseMatch::Mac => "mac",
            LeaseMatch::DuidMac => "duid_mac",
            LeaseMatch::Name => "name",
        }
    }
}

/// What [`LeaseFile::decide`] made of one of the VM's leases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseVerdict<'a> {
    /// The VM's newest lease that is neither superseded nor expired.
    Current,
    /// Neither superseded nor expired, but a newer lease of the VM is current.
    Older,
    /// A MAC-keyed lease displaced by `by`, a newer lease of the same hostname under a DUID client id.
    Superseded {
        /// The newer lease (the newest one when several qualify).
        by: &'a Lease,
    },
    /// Expired at the `now` given to [`LeaseFile::decide`].
    Expired,
}

impl LeaseVerdict<'_> {
    /// `current`, `older`, `superseded` or `expired` (the `vmbar inspect leases` JSON spelling).
    pub fn as_str(&self) -> &'static str {
        match self {
            LeaseVerdict::Current => "current",
            LeaseVerdict::Older => "older",
            LeaseVerdict::Superseded { .. } => "superseded",
            LeaseVerdict::Expired => "expired",
        }
    }
}

/// One of the VM's leases with how it matched and its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JudgedLease<'a> {
    /// The lease (borrowed from the [`LeaseFile`]).
    pub lease: &'a Lease,
    /// How it was tied to the VM.
    pub matched: LeaseMatch,
    /// What the rule made of it.
    pub verdict: LeaseVerdict<'a>,
}

/// The outcome of [`LeaseFile::decide`] for one VM and one lease file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaseDecision<'a> {
    /// The VM's current lease, if any: never an expired (when judged) or superseded one.
    pub current: Option<&'a Lease>,
    /// Every lease tied to the VM, newest first (see [`LeaseFile::decide`] for the order), each with its verdict.
    pub leases: Vec<JudgedLease<'a>>,
}

fn newest_first<'a>(it: impl Iterator<Item = &'a Lease>) -> Vec<&'a Lease> {
    let mut v: Vec<(usize, &Lease)> = it.enumerate().collect();
    // Key: infinite first, then latest expiry, then later position.
    v.sort_by(|(ia, a), (ib, b)| {
        let ka = (a.expires.is_none(), a.expires.unwrap_or(i64::MIN), *ia);
        let kb = (b.expires.is_none(), b.expires.unwrap_or(i64::MIN), *ib);
        kb.cmp(&ka)
    });
    v.into_iter().map(|(_, l)| l).collect()
}

/// Guesses the format: JSON (`[` or `{"`) is libvirt status; `{` on its own
/// line or bootpd keys (`ip_address=`, `hw_address=`) is bootpd; a
/// `DHCPACK(`/`dnsmasq-dhcp` line is a log; the `Expiry Time` header or an
/// `ipv4` row with a date is virsh; `EXPIRY MAC IP …` or `duid …` lines are
/// dnsmasq. Returns `None` when nothing fits.
pub fn detect_format(text: &str) -> Option<LeaseFormat> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    // `[` then `{`/`]` (not `[    5.1]`, a kernel timestamp), or `{` then `"`.
    let json_next = |open: char, want: &[char]| {
        trimmed.strip_prefix(open).is_some_and(|r| {
            let r = r.trim_start();
            r.is_empty() || r.starts_with(want)
        })
    };
    if json_next('[', &['{', ']']) || json_next('{', &['"']) {
        return Some(LeaseFormat::LibvirtStatus);
    }
    for line in text.lines().take(4096) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if t.contains("DHCPACK(") || t.contains("dnsmasq-dhcp") {
            return Some(LeaseFormat::DnsmasqLog);
        }
        if t == "{" || t == "}" || ["name=", "ip_address=", "hw_address=", "identifier=", "lease=0x"].iter().any(|k| t.starts_with(k)) {
            return Some(LeaseFormat::Bootpd);
        }
        let toks: Vec<&str> = t.split_whitespace().take(MAX_TOKENS).collect();
        if toks.starts_with(&["Expiry", "Time"]) {
            return Some(LeaseFormat::VirshNetDhcpLeases);
        }
        if parse_virsh_row(&toks, &chrono::Utc).is_some() {
            return Some(LeaseFormat::VirshNetDhcpLeases);
        }
        let dnsmasq_row = toks.len() >= 4 && toks[0].bytes().all(|b| b.is_ascii_digit()) && toks[2].parse::<std::net::IpAddr>().is_ok();
        if dnsmasq_row || (toks.first() == Some(&"duid") && toks.len() == 2) {
            return Some(LeaseFormat::Dnsmasq);
        }
    }
    None
}

/// Parses leases, detecting the format with [`detect_format`]. Never panics.
/// Broken JSON gives an empty file with `format: Some(LibvirtStatus)` and
/// `skipped: 1`; unrecognisable text gives `format: None`, no leases, and
/// every non-blank line counted as skipped. virsh times are read in the
/// local time zone (see [`parse_as`]).
pub fn parse(text: &str) -> LeaseFile {
    match detect_format(text) {
        Some(f) => parse_as(text, f),
        None => LeaseFile { format: None, leases: Vec::new(), skipped: text.lines().filter(|l| !l.trim().is_empty()).count() },
    }
}

/// Parses `text` as `format`. `virsh net-dhcp-leases` prints expiry times in
/// the local time zone of the host running virsh and without a zone, so
/// they are read in this process's local zone (`chrono::Local`, i.e. `TZ` or
/// `/etc/localtime`); use [`parse_as_in_zone`] to choose the zone.
pub fn parse_as(text: &str, format: LeaseFormat) -> LeaseFile {
    parse_as_in_zone(text, format, &chrono::Local)
}

/// Like [`parse_as`], reading zone-less virsh expiry times in `zone`
/// (a DST gap or fold resolves to the earliest valid instant; an impossible
/// local time gives `expires: None`). Other formats carry Unix times and
/// ignore `zone`.
pub fn parse_as_in_zone<Tz: TimeZone>(text: &str, format: LeaseFormat, zone: &Tz) -> LeaseFile {
    let mut file = LeaseFile { format: Some(format), leases: Vec::new(), skipped: 0 };
    match format {
        LeaseFormat::Bootpd => parse_bootpd(text, &mut file),
        LeaseFormat::Dnsmasq => parse_dnsmasq(text, &mut file),
        LeaseFormat::LibvirtStatus => parse_libvirt(text, &mut file),
        LeaseFormat::VirshNetDhcpLeases => {
            for line in text.lines() {
                let toks: Vec<&str> = line.split_whitespace().take(MAX_TOKENS).collect();
                let rule = toks.len() == 1 && toks[0].len() >= 3 && toks[0].bytes().all(|b| b == b'-');
                if toks.is_empty() || rule || toks.starts_with(&["Expiry", "Time"]) {
                    continue;
                }
                match parse_virsh_row(&toks, zone) {
                    Some(Some(l)) => file.leases.push(l),
                    _ => file.skipped += 1,
                }
            }
        }
        LeaseFormat::DnsmasqLog => parse_dnsmasq_log(text, &mut file),
    }
    file
}

/// Rows of the line formats have at most 7 tokens; reading no more than this
/// keeps a 10 MB garbage line from becoming millions of tokens.
const MAX_TOKENS: usize = 16;

/// `*` and `-` mean "none" in dnsmasq and virsh output.
fn opt_field(t: &str) -> Option<String> {
    let t = t.trim();
    (!t.is_empty() && t != "*" && t != "-").then(|| t.to_owned())
}

/// The MAC in a DUID-based client identifier (`ff` + 4-byte IAID + DUID,
/// RFC 4361), when the DUID is DUID-LLT (type 1) or DUID-LL (type 3) with
/// hardware type 1 (Ethernet). Accepts `:`-separated hex with 1- or 2-digit
/// octets (bootpd strips zeros) and an optional `ff,` bootpd prefix.
pub fn duid_client_id_mac(client_id: &str) -> Option<MacAddr> {
    let t = client_id.trim();
    let t = t.strip_prefix("ff,").map(|r| format!("ff:{r}"));
    let t = t.as_deref().unwrap_or(client_id.trim());
    let bytes: Vec<u8> = t.split(':').map(|o| if o.len() <= 2 { u8::from_str_radix(o, 16).ok() } else { None }).collect::<Option<_>>()?;
    if bytes.first() != Some(&0xff) || bytes.len() < 5 {
        return None;
    }
    let duid = &bytes[5..];
    let mac = match duid {
        [0, 1, 0, 1, _, _, _, _, m @ ..] if m.len() == 6 => m,
        [0, 3, 0, 1, m @ ..] if m.len() == 6 => m,
        _ => return None,
    };
    let mut out = [0u8; 6];
    out.copy_from_slice(mac);
    Some(MacAddr(out))
}

/// bootpd blocks: `{`, `key=value` lines (TAB or space indent), `}`. Text
/// before the first `{` (a paste starting mid-block) and unterminated blocks
/// are partial records: counted once in `skipped`, never used.
fn parse_bootpd(text: &str, file: &mut LeaseFile) {
    let mut block: Option<Vec<(&str, &str)>> = None;
    let mut orphan = false;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        match t {
            "{" => {
                if block.take().is_some() || orphan {
                    file.skipped += 1;
                }
                orphan = false;
                block = Some(Vec::new());
            }
            "}" => match block.take() {
                Some(kv) => match bootpd_lease(&kv) {
                    Some(l) => file.leases.push(l),
                    None => file.skipped += 1,
                },
                None => {
                    file.skipped += 1;
                    orphan = false;
                }
            },
            _ => match (t.split_once('='), block.as_mut()) {
                (Some((k, v)), Some(kv)) => kv.push((k.trim(), v.trim())),
                (Some(_), None) => orphan = true,
                (None, _) => file.skipped += 1,
            },
        }
    }
    if block.is_some() || orphan {
        file.skipped += 1;
    }
}

fn bootpd_lease(kv: &[(&str, &str)]) -> Option<Lease> {
    let get = |k: &str| kv.iter().rev().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let ip: Ipv4Addr = get("ip_address")?.parse().ok()?;
    let hw = get("hw_address");
    let mac = hw.and_then(MacAddr::from_hw_address);
    let client_id = get("identifier").map(str::to_owned);
    let duid_mac = hw.and_then(duid_client_id_mac).or_else(|| client_id.as_deref().and_then(duid_client_id_mac));
    // `lease=` is the expiry in hex Unix seconds; a value we cannot read is
    // a broken record rather than an infinite lease.
    let expires = match get("lease") {
        Some(v) => Some(i64::from_str_radix(v.strip_prefix("0x").or_else(|| v.strip_prefix("0X"))?, 16).ok()?),
        None => None,
    };
    Some(Lease { ip, mac, hostname: get("name").and_then(opt_field), client_id, duid_mac, expires, format: LeaseFormat::Bootpd })
}

/// dnsmasq lease lines `EXPIRY MAC IP HOSTNAME CLIENTID` (expiry 0 =
/// infinite, `*` = unknown); the server's `duid …` line and IPv6 lease lines
/// (`EXPIRY IAID IPv6 …`, after the `duid` line) are not IPv4 leases.
fn parse_dnsmasq(text: &str, file: &mut LeaseFile) {
    for line in text.lines() {
        let toks: Vec<&str> = line.split_whitespace().take(MAX_TOKENS).collect();
        if toks.is_empty() || (toks[0] == "duid" && toks.len() <= 2) {
            continue;
        }
        let lease = (|| {
            if toks.len() < 3 {
                return None;
            }
            let expiry: i64 = toks[0].parse().ok()?;
            let ip: Ipv4Addr = toks[2].parse().ok()?;
            Some(Lease {
                ip,
                mac: toks[1].parse().ok(),
                hostname: toks.get(3).and_then(|h| opt_field(h)),
                client_id: toks.get(4).and_then(|c| opt_field(c)),
                duid_mac: toks.get(4).and_then(|c| duid_client_id_mac(c)),
                expires: (expiry != 0).then_some(expiry),
                format: LeaseFormat::Dnsmasq,
            })
        })();
        match lease {
            Some(l) => file.leases.push(l),
            None => file.skipped += 1,
        }
    }
}

fn parse_libvirt(text: &str, file: &mut LeaseFile) {
    if text.trim().is_empty() {
        return; // libvirt leaves an empty file when no lease was ever given
    }
    let items: Vec<serde_json::Value> = match serde_json::from_str(text) {
        Ok(serde_json::Value::Array(a)) => a,
        Ok(v @ serde_json::Value::Object(_)) => vec![v],
        _ => {
            file.skipped += 1;
            return;
        }
    };
    for item in items {
        let s = |k: &str| item.get(k).and_then(|v| v.as_str());
        let lease = (|| {
            let ip: Ipv4Addr = s("ip-address")?.trim().parse().ok()?;
            let client_id = s("client-id").and_then(opt_field);
            let expires = match item.get("expiry-time") {
                Some(v) => v.as_i64().or_else(|| v.as_str().and_then(|t| t.trim().parse().ok()))?,
                None => 0,
            };
            Some(Lease {
                ip,
                mac: s("mac-address").and_then(|m| m.parse().ok()),
                hostname: s("hostname").and_then(opt_field),
                duid_mac: client_id.as_deref().and_then(duid_client_id_mac),
                client_id,
                expires: (expires != 0).then_some(expires),
                format: LeaseFormat::LibvirtStatus,
            })
        })();
        match lease {
            Some(l) => file.leases.push(l),
            None => file.skipped += 1,
        }
    }
}

/// A virsh row: `DATE TIME MAC PROTO IP/PREFIX HOSTNAME CLIENTID`. Returns
/// `None` when the tokens are not a row, `Some(None)` for a row that is not
/// an IPv4 lease (ipv6).
fn parse_virsh_row<Tz: TimeZone>(toks: &[&str], zone: &Tz) -> Option<Option<Lease>> {
    if toks.len() < 5 {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(&format!("{} {}", toks[0], toks[1]), "%Y-%m-%d %H:%M:%S").ok()?;
    let proto = toks[3];
    if proto != "ipv4" && proto != "ipv6" {
        return None;
    }
    let ip_text = toks[4].split('/').next().unwrap_or("");
    if proto == "ipv6" {
        return Some(None);
    }
    let Ok(ip) = ip_text.parse::<Ipv4Addr>() else { return Some(None) };
    let client_id = toks.get(6).and_then(|c| opt_field(c));
    Some(Some(Lease {
        ip,
        mac: toks[2].parse().ok(),
        hostname: toks.get(5).and_then(|h| opt_field(h)),
        duid_mac: client_id.as_deref().and_then(duid_client_id_mac),
        client_id,
        expires: zone.from_local_datetime(&naive).earliest().map(|t| t.timestamp()),
        format: LeaseFormat::VirshNetDhcpLeases,
    }))
}

/// dnsmasq-dhcp log: `… DHCPACK(iface) IP MAC [hostname]` lines give leases;
/// `DHCPRELEASE(iface) IP MAC` drops earlier ones for that IP and MAC. Other
/// DHCP lines (DISCOVER/OFFER/REQUEST carry no commitment) and unrelated
/// journal lines are ignored, not counted. A DHCPACK line that cannot be
/// read (e.g. `DHCPACK(eth0) 10.0.0.5 <no address>`) is skipped.
fn parse_dnsmasq_log(text: &str, file: &mut LeaseFile) {
    for line in text.lines() {
        for (tag, ack) in [("DHCPACK(", true), ("DHCPRELEASE(", false)] {
            let Some(pos) = line.find(tag) else { continue };
            let after = &line[pos + tag.len()..];
            let Some(close) = after.find(')') else {
                file.skipped += 1;
                continue;
            };
            let toks: Vec<&str> = after[close + 1..].split_whitespace().take(4).collect();
            let ip = toks.first().and_then(|t| t.parse::<Ipv4Addr>().ok());
            let mac = toks.get(1).and_then(|t| t.parse::<MacAddr>().ok());
            match (ip, mac, ack) {
                (Some(ip), Some(mac), true) => file.leases.push(Lease {
                    ip,
                    mac: Some(mac),
                    hostname: toks.get(2).and_then(|h| opt_field(h)),
                    client_id: None,
                    duid_mac: None,
                    expires: None,
                    format: LeaseFormat::DnsmasqLog,
                }),
                (Some(ip), Some(mac), false) => file.leases.retain(|l| !(l.ip == ip && l.mac == Some(mac))),
                _ => file.skipped += 1,
            }
        }
    }
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
    fn ips(v: &[&Lease]) -> Vec<Ipv4Addr> {
        v.iter().map(|l| l.ip).collect()
    }

    const BOOTPD: &str = "\n        lease=0x61c9185c\n}\n{\n\tname=primary\n\tip_address=192.168.64.6\n\thw_address=1,52:54:0:9c:2:d7\n\tidentifier=1,52:54:0:9c:2:d7\n\tlease=0x61c92dad\n}\n{\n  name=Primary\n  ip_address=192.168.64.3\n  hw_address=1,52:54:0:5f:c2:7a\n  lease=0x61c77eb3\n}\n{\n\tname=duidvm\n\tip_address=192.168.64.9\n\thw_address=ff,f1:f5:dd:7f:0:2:0:0:ab:11:11:22:33:44:55:66:77:88\n\tidentifier=ff,f1:f5:dd:7f:0:1:0:1:2c:0:0:1:52:54:0:aa:bb:cc\n\tlease=0x61c92dad\n}\n{\n\tname=broken\n\tip_address=192.168.64.10\n";

    #[test]
    fn bootpd_blocks_partial_and_duid() {
        assert_eq!(detect_format(BOOTPD), Some(LeaseFormat::Bootpd));
        let f = parse(BOOTPD);
        assert_eq!(f.leases.len(), 3);
        assert_eq!(f.skipped, 2, "leading partial block and trailing unterminated block");
        assert_eq!(f.leases[0].mac, Some(mac("52:54:00:9c:02:d7")));
        assert_eq!(f.leases[0].expires, Some(0x61c92dad));
        assert_eq!(f.leases[2].mac, None, "ff, DUID hw_address is not a MAC");
        assert_eq!(f.leases[2].duid_mac, Some(mac("52:54:00:aa:bb:cc")), "DUID-LLT in identifier");
        assert!(f.for_mac(mac("52:54:00:aa:bb:cc"), 0).is_empty(), "DUID hint is not used for MAC lookup");
        let by_name = f.for_name("PRIMARY", 0);
        assert_eq!(ips(&by_name), [v4("192.168.64.6"), v4("192.168.64.3")], "newest first");
        assert!(f.for_name("prim", 0).is_empty());
        assert!(f.for_name("primary.local", 0).is_empty());
        assert_eq!(ips(&f.for_name("primary.", 0x61c92000)), [v4("192.168.64.6")], "expired lease dropped");
        assert!(f.for_mac(mac("52:54:00:9c:02:d7"), 0x61c92dad).is_empty(), "expiry == now is expired");
    }

    #[test]
    fn duid_keyed_lease_supersedes_old_mac_lease() {
        // A guest first leased by MAC, then (new boot, DUID client id) by DUID.
        let t = "{\n\tname=vm1\n\tip_address=192.168.64.20\n\thw_address=ff,0:11:22:33:0:2:0:0:ab:11:aa:bb\n\tidentifier=ff,0:11:22:33:0:2:0:0:ab:11:aa:bb\n\tlease=0x6700a000\n}\n\
                 {\n\tname=vm1\n\tip_address=192.168.64.7\n\thw_address=1,52:54:0:aa:bb:cc\n\tidentifier=1,52:54:0:aa:bb:cc\n\tlease=0x67009000\n}\n\
                 {\n\tname=other\n\tip_address=192.168.64.21\n\thw_address=ff,0:11:22:34:0:3:0:1:52:54:0:aa:bb:cc\n\tlease=0x67008000\n}\n\
                 {\n\tname=vm1\n\tip_address=192.168.64.22\n\thw_address=1,52:54:0:dd:ee:ff\n\tlease=0x6700b000\n}\n";
        let f = parse(t);
        assert_eq!(f.leases.len(), 4);
        let m = mac("52:54:00:aa:bb:cc");
        assert_eq!(ips(&f.for_mac(m, 0)), [v4("192.168.64.7")], "MAC lookup sees only the old lease");
        let verdicts = |d: &LeaseDecision<'_>| d.leases.iter().map(|j| (j.lease.ip, j.matched, j.verdict.as_str())).collect::<Vec<_>>();
        let d = f.decide(Some(m), Some("VM1"), Some(0));
        assert_eq!(d.current.map(|l| l.ip), Some(v4("192.168.64.20")), "the DUID-keyed lease of the VM's name is newer");
        assert_eq!(
            verdicts(&d),
            [(v4("192.168.64.20"), LeaseMatch::Name, "current"), (v4("192.168.64.7"), LeaseMatch::Mac, "superseded"), (v4("192.168.64.21"), LeaseMatch::DuidMac, "older")],
            "never another MAC's lease (.22)"
        );
        assert!(matches!(d.leases[1].verdict, LeaseVerdict::Superseded { by } if by.ip == v4("192.168.64.20")));
        // Without a name the MAC lease's own hostname supersedes it, and the DUID-LL lease .21 is
        // older than the superseding lease: nothing is current.
        let d = f.decide(Some(m), None, Some(0));
        assert_eq!(d.current, None);
        assert_eq!(verdicts(&d), [(v4("192.168.64.7"), LeaseMatch::Mac, "superseded"), (v4("192.168.64.21"), LeaseMatch::DuidMac, "older")]);
        // Expiry judged: all expired; the superseded one stays superseded.
        let d = f.decide(Some(m), Some("vm1"), Some(0x6700a000));
        assert_eq!(d.current, None);
        assert_eq!(verdicts(&d).iter().map(|v| v.2).collect::<Vec<_>>(), ["expired", "superseded", "expired"]);
        // Expiry not judged: the same as at time 0.
        assert_eq!(f.decide(Some(m), Some("vm1"), None).current.map(|l| l.ip), Some(v4("192.168.64.20")));
        // Another MAC's newer lease of the same hostname does not supersede: .22 is dd:ee:ff's own.
        let d = f.decide(Some(mac("52:54:00:dd:ee:ff")), None, None);
        assert_eq!(verdicts(&d), [(v4("192.168.64.22"), LeaseMatch::Mac, "current")]);
        // The MAC unknown: the name alone decides, any key.
        assert_eq!(f.decide(None, Some("vm1"), None).current.map(|l| l.ip), Some(v4("192.168.64.22")));
        assert_eq!(f.decide(None, None, None), LeaseDecision::default());
    }

    #[test]
    fn decide_is_linear_in_the_file() {
        // 200 000 leases of one MAC and hostname (a quadratic supersession search would not
        // finish), then DUID-keyed leases of that hostname: one newer than all but the last.
        let mut t = String::new();
        for i in 0..200_000u32 {
            let [_, a, b, c] = (0x0a00_0000u32 + i + 1).to_be_bytes();
            t.push_str(&format!("{{\n\tname=h\n\tip_address=10.{a}.{b}.{c}\n\thw_address=1,52:54:0:0:0:1\n\tidentifier=1,52:54:0:0:0:1\n\tlease={:#x}\n}}\n", 1_000_000 + i));
        }
        t.push_str("{\n\tname=H.\n\tip_address=192.168.64.99\n\thw_address=ff,1:2:3:4:0:2:0:0:ab:11:1:2:3:4:5:6:7:8\n\tlease=0xf4240\n}\n");
        t.push_str("{\n\tname=h\n\tip_address=192.168.64.98\n\thw_address=ff,1:2:3:4:0:2:0:0:ab:11:1:2:3:4:5:6:7:9\n\tlease=0xf4250\n}\n");
        let f = parse(&t);
        assert_eq!(f.leases.len(), 200_002);
        let d = f.decide(Some(mac("52:54:00:00:00:01")), None, None);
        let superseded = d.leases.iter().filter(|j| matches!(j.verdict, LeaseVerdict::Superseded { by } if by.ip == v4("192.168.64.98"))).count();
        assert_eq!(superseded, 16, "the leases expiring before 0xf4250 (1 000 016) are superseded by the newer DUID lease");
        assert_eq!(d.current.map(|l| l.expires), Some(Some(1_199_999)), "the newest MAC-keyed lease is newer than every DUID-keyed one");
        assert_eq!(f.decide(Some(mac("52:54:00:00:00:01")), Some("h"), None).current.map(|l| l.expires), Some(Some(1_199_999)));
    }

    #[test]
    fn bootpd_bad_lease_value_is_skipped() {
        let f = parse_as("{\n\tip_address=10.0.0.2\n\thw_address=1,52:54:0:0:0:2\n\tlease=soon\n}\n", LeaseFormat::Bootpd);
        assert!(f.leases.is_empty());
        assert_eq!(f.skipped, 1);
    }

    #[test]
    fn a_duid_lease_embedding_the_mac_is_superseded_like_a_mac_keyed_one() {
        // Found by a reviewer: the guest's DHCP client moved from a DUID-LLT (which embeds the
        // VM's MAC) to a DUID-EN under the same hostname; the older .39 was presented as current.
        let text = "{\n\tname=ubuntu\n\tip_address=192.168.64.40\n\thw_address=ff,0:aa:bb:cc:0:2:0:0:ab:11:1:2:3:4:5:6:7:8\n\tidentifier=ff,0:aa:bb:cc:0:2:0:0:ab:11:1:2:3:4:5:6:7:8\n\tlease=0x67000200\n}\n{\n\tname=ubuntu\n\tip_address=192.168.64.39\n\thw_address=ff,0:aa:bb:cc:0:1:0:1:2c:0:0:1:52:54:0:aa:bb:cc\n\tidentifier=ff,0:aa:bb:cc:0:1:0:1:2c:0:0:1:52:54:0:aa:bb:cc\n\tlease=0x67000100\n}\n";
        let f = parse_as(text, LeaseFormat::Bootpd);
        assert_eq!(f.leases.len(), 2);
        let d = f.decide(Some(mac("52:54:00:aa:bb:cc")), Some("fargo"), None);
        assert_eq!(d.current.map(|l| l.ip), None, "the superseded DUID-LLT lease .39 is not current: {:?}", d.leases);
        assert!(d.leases.iter().any(|j| matches!(j.verdict, LeaseVerdict::Superseded { .. })), "{:?}", d.leases);
        // With the hostname as the VM's name, the newer DUID lease is the VM's current one.
        let d = f.decide(Some(mac("52:54:00:aa:bb:cc")), Some("ubuntu"), None);
        assert_eq!(d.current.map(|l| l.ip), Some(std::net::Ipv4Addr::new(192, 168, 64, 40)));
    }

    #[test]
    fn duid_mac_extraction() {
        assert_eq!(duid_client_id_mac("ff:00:7d:1b:e9:00:01:00:01:25:85:91:3e:52:54:00:7d:1b:e9"), Some(mac("52:54:00:7d:1b:e9")));
        assert_eq!(duid_client_id_mac("ff:00:7d:1b:e9:00:03:00:01:52:54:00:7d:1b:e9"), Some(mac("52:54:00:7d:1b:e9")));
        assert_eq!(duid_client_id_mac("ff:00:7d:1b:e9:00:02:00:00:ab:11:11:22:33:44:55:66:77:88"), None, "DUID-EN has no MAC");
        assert_eq!(duid_client_id_mac("ff:00:7d:1b:e9:00:01:00:06:25:85:91:3e:52:54:00:7d:1b:e9"), None, "hw type 6 is not Ethernet");
        assert_eq!(duid_client_id_mac("01:52:54:00:c4:89:1c"), None);
        assert_eq!(duid_client_id_mac("garbage"), None);
    }

    #[test]
    fn dnsmasq_file() {
        let t = "1700000000 52:54:00:11:22:33 192.168.122.10 vm1 01:52:54:00:11:22:33\n\
                 0 52:54:00:11:22:44 192.168.122.11 * *\n\
                 1700000100 52:54:00:11:22:55 192.168.122.12 vm3 ff:00:11:22:55:00:01:00:01:2c:00:00:01:52:54:00:11:22:55\n\
                 duid 00:01:00:01:2c:00:00:01:52:54:00:00:00:01\n\
                 1700000000 1234567 fd00::10 vm1 00:01:00:01:2c:00:00:01:52:54:00:11:22:33\n\
                 junk\n";
        assert_eq!(detect_format(t), Some(LeaseFormat::Dnsmasq));
        let f = parse(t);
        assert_eq!(f.leases.len(), 3);
        assert_eq!(f.skipped, 2, "IPv6 lease and junk");
        assert_eq!(f.leases[1].expires, None, "0 = infinite");
        assert_eq!(f.leases[1].hostname, None);
        assert_eq!(f.leases[1].client_id, None);
        assert_eq!(f.leases[2].duid_mac, Some(mac("52:54:00:11:22:55")));
        assert_eq!(ips(&f.for_mac(mac("52:54:00:11:22:44"), i64::MAX - 1)), [v4("192.168.122.11")]);
        assert_eq!(ips(&f.for_mac(mac("52:54:00:11:22:33"), 1_699_999_999)), [v4("192.168.122.10")]);
        assert!(f.for_mac(mac("52:54:00:11:22:33"), 1_700_000_000).is_empty());
    }

    #[test]
    fn libvirt_json_shapes() {
        let t = r#"[{"ip-address":"192.168.122.5","mac-address":"52:54:00:00:00:05","hostname":"a","expiry-time":100},
                    {"ip-address":"fd00::5","mac-address":"52:54:00:00:00:05","expiry-time":100},
                    {"mac-address":"52:54:00:00:00:06"}]"#;
        let f = parse(t);
        assert_eq!(f.format, Some(LeaseFormat::LibvirtStatus));
        assert_eq!(f.leases.len(), 1);
        assert_eq!(f.skipped, 2);
        assert_eq!(f.leases[0].hostname.as_deref(), Some("a"));
        let broken = parse("[{\"ip-address\": \"192.168");
        assert_eq!((broken.format, broken.leases.len(), broken.skipped), (Some(LeaseFormat::LibvirtStatus), 0, 1));
        let empty = parse_as("", LeaseFormat::LibvirtStatus);
        assert_eq!((empty.leases.len(), empty.skipped), (0, 0));
        assert_eq!(parse("[]").skipped, 0);
    }

    #[test]
    fn virsh_table_zone() {
        let t = " Expiry Time           MAC address         Protocol   IP address           Hostname   Client ID or DUID\n\
                 -----------------------------------------------------------------------------------------------------------\n \
                 2024-01-02 03:04:05   52:54:00:11:22:33   ipv4       192.168.122.10/24    vm1        01:52:54:00:11:22:33\n \
                 2024-01-02 03:04:05   52:54:00:11:22:34   ipv4       192.168.122.11/24    -          -\n \
                 2024-01-02 03:04:05   52:54:00:11:22:33   ipv6       fd00::10/64          vm1        00:04:aa\n\n";
        assert_eq!(detect_format(t), Some(LeaseFormat::VirshNetDhcpLeases));
        let f = parse_as_in_zone(t, LeaseFormat::VirshNetDhcpLeases, &chrono::Utc);
        assert_eq!(f.leases.len(), 2);
        assert_eq!(f.skipped, 1, "ipv6 row");
        assert_eq!(f.leases[0].expires, Some(1_704_164_645));
        assert_eq!(f.leases[1].hostname, None);
        let plus2 = chrono::FixedOffset::east_opt(7200).unwrap_or(chrono::FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
        let g = parse_as_in_zone(t, LeaseFormat::VirshNetDhcpLeases, &plus2);
        assert_eq!(g.leases[0].expires, Some(1_704_164_645 - 7200));
        assert_eq!(ips(&f.for_name("VM1", 0)), [v4("192.168.122.10")]);
    }

    #[test]
    fn dnsmasq_log_ack_and_release() {
        let t = "Jan 1 dnsmasq-dhcp[1]: DHCPOFFER(virbr0) 192.168.122.7 52:54:00:00:00:07\n\
                 Jan 1 dnsmasq-dhcp[1]: 12345 DHCPACK(virbr0) 192.168.122.7 52:54:00:00:00:07 vm7\n\
                 Jan 1 dnsmasq-dhcp[1]: DHCPACK(virbr0) 192.168.122.8 52:54:00:00:00:08\n\
                 Jan 1 dnsmasq-dhcp[1]: DHCPRELEASE(virbr0) 192.168.122.8 52:54:00:00:00:08\n\
                 Jan 1 dnsmasq-dhcp[1]: DHCPACK(virbr0) 192.168.122.9 52:54:00:00:00:07 vm7\n\
                 Jan 1 dnsmasq-dhcp[1]: DHCPACK(virbr0\n";
        let f = parse(t);
        assert_eq!(f.format, Some(LeaseFormat::DnsmasqLog));
        assert_eq!(f.leases.len(), 2);
        assert_eq!(f.skipped, 1);
        assert_eq!(ips(&f.for_mac(mac("52:54:00:00:00:07"), 0)), [v4("192.168.122.9"), v4("192.168.122.7")], "later ACK first");
        assert!(f.for_mac(mac("52:54:00:00:00:08"), 0).is_empty(), "released");
        assert_eq!(f.leases[0].hostname.as_deref(), Some("vm7"));
    }

    #[test]
    fn kernel_timestamp_is_not_json() {
        let t = "[   12.345678] dnsmasq-dhcp[77]: DHCPACK(virbr0) 192.168.122.7 52:54:00:00:00:07 vm7\n";
        assert_eq!(detect_format(t), Some(LeaseFormat::DnsmasqLog));
        assert_eq!(detect_format("  [\n  ]\n"), Some(LeaseFormat::LibvirtStatus));
        assert_eq!(detect_format("{\"ip-address\": \"10.0.0.1\"}"), Some(LeaseFormat::LibvirtStatus));
    }

    #[test]
    fn unknown_text() {
        let f = parse("hello world\n\n");
        assert_eq!((f.format, f.leases.len(), f.skipped), (None, 0, 1));
    }
}
