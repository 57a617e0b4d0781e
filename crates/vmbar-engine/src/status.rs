//! The status rules: a pure function from one VM's observations to its status.
//!
//! No IO happens here; [`crate::engine`] gathers the observations. Every rule
//! of the product lives in [`decide`]:
//!
//! - no VM folder: `missing`; no live QEMU: `stopped`;
//! - an address that is not on a link the host is attached to (no connected
//!   route: [`crate::routes`]) is never confirmed nor offered, whatever its source;
//! - an address that another VM's current-boot console names for that VM's
//!   MAC is never confirmed for this VM from any other source (when both
//!   consoles name it, only the neighbour table decides);
//! - a console-table address of the current boot for the VM's MAC is
//!   confirmed, unless the QEMU process cannot be tied to the VM (its console
//!   then confirms nothing), or a fresh neighbour entry (read after a probe of
//!   that address was answered in this boot) maps it to a MAC that is not the
//!   VM's and not another VM's (a neighbour entry never outranks a VM's own console);
//! - any other candidate (registry, neighbours, DNS, leases) is confirmed when
//!   a probe of it was answered in this boot and the neighbour table, read
//!   after that probe, maps it to the VM's MAC; one that maps to another MAC
//!   is rejected with a detail;
//! - addresses confirmed earlier in this boot stay confirmed until one of the
//!   rules above rejects them at a later refresh, or (console addresses) the
//!   console's newer table no longer names them; the shown address is the
//!   newest confirmed one that answers probes (else the newest), so a second
//!   table or a DHCP change moves a long-running watcher exactly like a fresh
//!   `vmbar status`;
//! - `running` needs the confirmed address's SSH port to have sent an `SSH-`
//!   banner, and cloud-init to have finished where this boot's console shows
//!   it started; `booting` otherwise; `initializing` without a confirmed address.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use crate::mac::MacAddr;
use crate::model::{Candidate, CloudInitStage, Note, Source, Status};
use crate::neighbours::NeighbourTable;
use crate::probe::ProbeOutcome;
use crate::process::Liveness;
use crate::routes::RouteTable;

/// What the other live VMs say about themselves, seen from one VM.
#[derive(Debug, Clone, Default)]
pub struct OtherVms {
    /// Address -> name of another VM whose current-boot console names it for that VM's MAC.
    pub console_ips: HashMap<Ipv4Addr, String>,
    /// MAC -> name of another live VM with that MAC (QEMU `mac=` or registry).
    pub macs: HashMap<MacAddr, String>,
}

/// Everything known about one VM at one refresh.
#[derive(Debug, Clone)]
pub struct Observations<'a> {
    /// The VM folder exists.
    pub dir_exists: bool,
    /// The QEMU process check.
    pub liveness: &'a Liveness,
    /// The VM's MAC, when known and undisputed.
    pub mac: Option<MacAddr>,
    /// IPv4 addresses the current boot's console table gives for the MAC.
    pub console_ips: &'a [Ipv4Addr],
    /// cloud-init's stage in the current boot.
    pub cloud_init: CloudInitStage,
    /// Candidates from the other sources, best source first.
    pub candidates: &'a [Candidate],
    /// The latest probe outcome of each address in this boot.
    pub probes: &'a HashMap<Ipv4Addr, ProbeOutcome>,
    /// The neighbour table, read after this refresh's probes.
    pub neighbours: &'a NeighbourTable,
    /// The other live VMs' own word (their consoles, their MACs).
    pub others: &'a OtherVms,
    /// The host's connected routes; `None` when they could not be read (no address is then
    /// rejected for being off-link).
    pub routes: Option<&'a RouteTable>,
    /// Addresses confirmed at earlier refreshes of this same boot, oldest first.
    pub earlier: &'a [(Ipv4Addr, Source)],
    /// The host has macOS's Local Network privacy (macOS 15+; the engine passes
    /// `cfg!(target_os = "macos")`): only there may a refused connection be put down
    /// to it ([`local_network_denied`]). Elsewhere the same errors are a guest's or a
    /// host's firewall (a guest firewall rejecting with ICMP host-prohibited gives
    /// EHOSTUNREACH with a complete neighbour entry).
    pub local_network_privacy: bool,
}

/// The outcome for one VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The status.
    pub status: Status,
    /// The confirmed address and its source.
    pub confirmed: Option<(Ipv4Addr, Source)>,
    /// Every address confirmed for this boot after this refresh, oldest first
    /// (pass it back as [`Observations::earlier`] at the next refresh).
    pub all_confirmed: Vec<(Ipv4Addr, Source)>,
    /// The best unconfirmed candidate when nothing is confirmed.
    pub candidate: Option<Candidate>,
    /// Human-readable notes, most important first.
    pub details: Vec<String>,
    /// Machine-readable notes of the rules here (`local_network_denied`); their
    /// detail is also in [`Decision::details`].
    pub notes: Vec<Note>,
}

/// The System Settings place that grants vmbar access to the local network (macOS 15+).
pub const LOCAL_NETWORK_SETTING: &str = "System Settings > Privacy & Security > Local Network";

/// Whether a failed probe of `ip` shows that the host itself refuses vmbar's
/// connections to the local network (macOS 15+ Local Network privacy) rather
/// than an address nobody answers at.
///
/// Source: Apple's TN3179 "Understanding local network privacy": an app denied
/// local network access gets `EHOSTUNREACH` ("No route to host") from
/// `connect` to a local-network address (and `EPERM` in some cases), while
/// reading the routing and neighbour (ARP) tables keeps working. Hence:
/// - `EHOSTUNREACH` ([`ProbeOutcome::Unreachable`]) proves a denial only when
///   the neighbour table has an entry for `ip` (`neighbour_entry`): the host
///   did resolve it on the link, so the link works and only the privacy layer
///   refuses. Without an entry it is the ordinary "nobody answers ARP" and
///   proves nothing;
/// - `EPERM`/`EACCES` ([`ProbeOutcome::Denied`]) to an on-link address is a
///   refusal by the host itself whether or not the neighbour is known (Local
///   Network privacy, or a host firewall: the detail says both).
pub fn local_network_denied(outcome: &ProbeOutcome, neighbour_entry: bool, on_link: bool) -> bool {
    match outcome {
        ProbeOutcome::Unreachable(_) => on_link && neighbour_entry,
        ProbeOutcome::Denied(_) => on_link,
        _ => false,
    }
}

/// True when `ip` may be probed and confirmed: on a link the host is attached
/// to, or the routes are unknown.
pub fn on_link(routes: Option<&RouteTable>, ip: Ipv4Addr) -> bool {
    routes.is_none_or(|r| r.on_link(ip))
}

/// Applies the status rules (see the module docs).
pub fn decide(o: &Observations<'_>) -> Decision {
    let mut details = Vec::new();
    let none = |status: Status, candidate: Option<Candidate>, details: Vec<String>| Decision { status, confirmed: None, all_confirmed: Vec::new(), candidate, details, notes: Vec::new() };
    if !o.dir_exists {
        return none(Status::Missing, None, vec!["no VM folder".into()]);
    }
    let tied = match o.liveness {
        Liveness::Dead(why) => return none(Status::Stopped, None, vec![why.clone()]),
        Liveness::Unverified { reason, .. } => {
            details.push(reason.clone());
            false
        }
        Liveness::Alive { unread, .. } => {
            details.extend(unread.iter().cloned());
            true
        }
    };
    let routed = |ip: Ipv4Addr| !on_link(o.routes, ip);
    let mut off_link: Vec<Ipv4Addr> = Vec::new();
    for ip in o.console_ips.iter().copied().chain(o.candidates.iter().map(|c| c.ipv4)).chain(o.earlier.iter().map(|e| e.0)) {
        if routed(ip) && !off_link.contains(&ip) {
            off_link.push(ip);
            details.push(format!("{ip} is not on a link this host is attached to (no connected route): ignored"));
        }
    }
    let console_ips: Vec<Ipv4Addr> = o.console_ips.iter().copied().filter(|ip| !routed(*ip)).collect();
    let candidates: Vec<Candidate> = o.candidates.iter().copied().filter(|c| !routed(c.ipv4)).collect();
    let Some(mac) = o.mac else {
        details.push("no usable MAC (none known, or claimed by another running VM): cannot confirm an address".into());
        let candidate = console_ips.first().map(|ip| Candidate { ipv4: *ip, source: Source::Console }).or_else(|| candidates.first().copied());
        return none(Status::Initializing, candidate, details);
    };

    let answered = |ip: Ipv4Addr| o.probes.get(&ip).is_some_and(ProbeOutcome::answered);
    let maps_to_us = |ip: Ipv4Addr| o.neighbours.macs_for(ip).contains(&mac);
    // Why a console address (or one confirmed earlier) is not this VM's, if it is not.
    let console_veto = |ip: Ipv4Addr| -> Option<String> {
        let macs = o.neighbours.macs_for(ip);
        if macs.is_empty() || macs.contains(&mac) {
            return None;
        }
        if macs.iter().any(|m| o.others.macs.contains_key(m)) {
            // another VM's MAC (ARP flux, or a stale entry after the address moved):
            // a neighbour entry never outranks a VM's own console
            return None;
        }
        // a neighbour entry is evidence only while fresh: read after an answered probe
        answered(ip).then(|| format!("{ip} belongs to {} in the neighbour table", macs[0]))
    };
    let other_console = |ip: Ipv4Addr| o.others.console_ips.get(&ip);

    let mut confirmed: Vec<(Ipv4Addr, Source)> = Vec::new();
    let mut unconfirmed: Vec<Candidate> = Vec::new();
    // Earlier confirmations of this boot, re-evaluated.
    for &(ip, src) in o.earlier {
        if routed(ip) {
            continue;
        }
        if src == Source::Console && !console_ips.is_empty() && !console_ips.contains(&ip) {
            details.push(format!("{ip} is no longer in the console's table"));
            continue;
        }
        if src == Source::Console && !tied {
            continue;
        }
        if let Some(vm) = other_console(ip).filter(|_| !console_ips.contains(&ip)) {
            details.push(format!("{ip} is VM {vm}'s address (its console): no longer confirmed"));
            continue;
        }
        let veto = if src == Source::Console {
            console_veto(ip)
        } else {
            let macs = o.neighbours.macs_for(ip);
            (!macs.is_empty() && !macs.contains(&mac)).then(|| format!("{ip} now belongs to {} in the neighbour table", macs[0]))
        };
        if let Some(why) = veto {
            details.push(format!("{why}: no longer confirmed"));
            continue;
        }
        confirmed.push((ip, src));
    }
    let known = confirmed.len();
    for &ip in &console_ips {
        if !tied {
            details.push(format!("console's {ip} is not confirmed: the process cannot be tied to this VM"));
            unconfirmed.push(Candidate { ipv4: ip, source: Source::Console });
        } else if let Some(why) = console_veto(ip) {
            details.push(format!("console's {why}: rejected"));
        } else if let Some(vm) = other_console(ip).filter(|_| !maps_to_us(ip)) {
            // two consoles name it: only the neighbour table decides
            confirmed.retain(|(c, _)| *c != ip);
            match o.neighbours.macs_for(ip).first() {
                Some(m) => details.push(format!("console's {ip} belongs to {m} in the neighbour table (VM {vm}'s console names it too): rejected")),
                None => {
                    details.push(format!("console's {ip} is claimed by VM {vm}'s console too: waiting for the neighbour table"));
                    unconfirmed.push(Candidate { ipv4: ip, source: Source::Console });
                }
            }
        } else if !confirmed.iter().any(|(c, _)| *c == ip) {
            confirmed.push((ip, Source::Console));
        }
    }
    for c in &candidates {
        if confirmed.iter().any(|(ip, _)| *ip == c.ipv4) {
            continue;
        }
        let macs = o.neighbours.macs_for(c.ipv4);
        if let Some(vm) = other_console(c.ipv4).filter(|_| !console_ips.contains(&c.ipv4)) {
            details.push(format!("{}'s {} is VM {vm}'s address (its console): rejected", c.source, c.ipv4));
        } else if !macs.is_empty() && !macs.contains(&mac) {
            details.push(format!("{}'s {} belongs to {} in the neighbour table: rejected", c.source, c.ipv4, macs[0]));
        } else if answered(c.ipv4) && maps_to_us(c.ipv4) {
            confirmed.push((c.ipv4, c.source));
        } else if !unconfirmed.iter().any(|u| u.ipv4 == c.ipv4) {
            unconfirmed.push(*c);
        }
    }

    // Probe errors worth telling: the host refusing vmbar's connections to the
    // local network ([`local_network_denied`], TN3179). Sorted: one note per address.
    let mut notes = Vec::new();
    let mut refused: Vec<(&Ipv4Addr, &ProbeOutcome)> = o.probes.iter().collect();
    refused.sort_by_key(|(ip, _)| **ip);
    for (ip, outcome) in refused {
        if !o.local_network_privacy || !local_network_denied(outcome, !o.neighbours.macs_for(*ip).is_empty(), !routed(*ip)) {
            continue;
        }
        let (ProbeOutcome::Unreachable(e) | ProbeOutcome::Denied(e)) = outcome else { continue };
        let detail = if matches!(outcome, ProbeOutcome::Denied(_)) {
            format!("connections to {ip} are refused by this host ({e}) although it is on the local network: on macOS 15 or later, allow vmbar in {LOCAL_NETWORK_SETTING} (else a firewall blocks it)")
        } else {
            format!("connections to {ip} are blocked ({e}) although it is on the local network: on macOS 15 or later, allow vmbar in {LOCAL_NETWORK_SETTING} (else the guest's firewall rejects the SSH port)")
        };
        details.push(detail.clone());
        notes.push(Note { code: "local_network_denied".into(), detail });
    }

    // The newest confirmation wins (a second table, a new lease), preferring one that
    // answers probes; among several new in this refresh (one MAC at two addresses), the
    // first answering one in source order.
    let (old, new) = confirmed.split_at(known.min(confirmed.len()));
    let chosen = new
        .iter()
        .find(|(ip, _)| answered(*ip))
        .or_else(|| old.iter().rev().find(|(ip, _)| answered(*ip)))
        .or(new.first())
        .or(old.last())
        .copied();
    let Some((ip, source)) = chosen else {
        let candidate = unconfirmed.first().copied();
        if let Some(c) = candidate {
            details.push(format!("{} from {} is not confirmed for this boot yet", c.ipv4, c.source));
        } else {
            details.push("no IPv4 yet".into());
        }
        return Decision { notes, ..none(Status::Initializing, candidate, details) };
    };
    // the chosen one becomes the newest
    let mut all_confirmed: Vec<(Ipv4Addr, Source)> = confirmed.iter().copied().filter(|(c, _)| *c != ip).collect();
    all_confirmed.push((ip, source));
    let ssh = o.probes.get(&ip);
    let cloud_init_pending = o.cloud_init != CloudInitStage::NotSeen && o.cloud_init != CloudInitStage::Finished;
    let status = match ssh {
        Some(ProbeOutcome::Banner(_)) if !cloud_init_pending => Status::Running,
        Some(ProbeOutcome::Banner(_)) => {
            details.insert(0, format!("SSH answers; waiting for cloud-init to finish (stage {})", stage_name(o.cloud_init)));
            Status::Booting
        }
        Some(ProbeOutcome::OpenNoBanner) => {
            details.insert(0, "SSH port open but no SSH banner yet".into());
            Status::Booting
        }
        _ => {
            details.insert(0, "SSH not ready".into());
            Status::Booting
        }
    };
    Decision { status, confirmed: Some((ip, source)), all_confirmed, candidate: None, details, notes }
}

fn stage_name(s: CloudInitStage) -> &'static str {
    match s {
        CloudInitStage::NotSeen => "not seen",
        CloudInitStage::InitLocal => "init-local",
        CloudInitStage::Init => "init",
        CloudInitStage::ModulesConfig => "modules:config",
        CloudInitStage::ModulesFinal => "modules:final",
        CloudInitStage::Finished => "finished",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbours;

    const MAC: &str = "52:54:00:15:7a:e3";
    fn mac() -> MacAddr {
        MAC.parse().unwrap_or(MacAddr::ZERO)
    }
    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
    }
    fn table(rows: &[(&str, &str)]) -> NeighbourTable {
        let mut text = String::from("IP address       HW type     Flags       HW address            Mask     Device\n");
        for (i, m) in rows {
            text.push_str(&format!("{i:<16} 0x1         0x2         {m}     *        eth0\n"));
        }
        neighbours::parse(&text)
    }
    fn alive() -> Liveness {
        Liveness::Alive { pid: 1, started: 1, cmdline_mac: None, unread: None }
    }

    struct Case {
        live: Liveness,
        console: Vec<Ipv4Addr>,
        cands: Vec<Candidate>,
        probes: HashMap<Ipv4Addr, ProbeOutcome>,
        neigh: NeighbourTable,
        others: OtherVms,
        stage: CloudInitStage,
        earlier: Vec<(Ipv4Addr, Source)>,
        macos: bool,
        routes: Option<RouteTable>,
    }
    impl Case {
        fn new() -> Self {
            Case { live: alive(), console: vec![], cands: vec![], probes: HashMap::new(), neigh: table(&[]), others: OtherVms::default(), stage: CloudInitStage::NotSeen, earlier: vec![], routes: None, macos: true }
        }
        fn run(&self) -> Decision {
            decide(&Observations {
                dir_exists: true,
                liveness: &self.live,
                mac: Some(mac()),
                console_ips: &self.console,
                cloud_init: self.stage,
                candidates: &self.cands,
                probes: &self.probes,
                neighbours: &self.neigh,
                others: &self.others,
                routes: self.routes.as_ref(),
                earlier: &self.earlier,
                local_network_privacy: self.macos,
            })
        }
    }

    #[test]
    fn missing_and_stopped() {
        let c = Case::new();
        let mut o = Observations { dir_exists: false, liveness: &c.live, mac: None, console_ips: &[], cloud_init: CloudInitStage::NotSeen, candidates: &[], probes: &c.probes, neighbours: &c.neigh, others: &c.others, routes: None, earlier: &[], local_network_privacy: true };
        assert_eq!(decide(&o).status, Status::Missing);
        o.dir_exists = true;
        let dead = Liveness::Dead("no qemu.pid".into());
        o.liveness = &dead;
        assert_eq!(decide(&o).status, Status::Stopped);
    }

    #[test]
    fn registry_hint_alone_is_never_confirmed() {
        let mut c = Case::new();
        c.cands = vec![Candidate { ipv4: ip("192.168.1.23"), source: Source::Registry }];
        let d = c.run();
        assert_eq!(d.status, Status::Initializing);
        assert_eq!(d.confirmed, None);
        assert_eq!(d.candidate.map(|c| c.source), Some(Source::Registry));
        // answered probe but the neighbour table does not know it: still not confirmed
        c.probes.insert(ip("192.168.1.23"), ProbeOutcome::Refused);
        assert_eq!(c.run().confirmed, None);
        // neighbour table maps it to us after the probe: confirmed
        c.neigh = table(&[("192.168.1.23", MAC)]);
        let d = c.run();
        assert_eq!(d.confirmed, Some((ip("192.168.1.23"), Source::Registry)));
        assert_eq!(d.status, Status::Booting);
    }

    #[test]
    fn stale_neighbour_entry_without_an_answer_does_not_confirm() {
        let mut c = Case::new();
        c.cands = vec![Candidate { ipv4: ip("192.168.1.23"), source: Source::Registry }];
        c.neigh = table(&[("192.168.1.23", MAC)]);
        c.probes.insert(ip("192.168.1.23"), ProbeOutcome::TimedOut);
        assert_eq!(c.run().confirmed, None);
    }

    #[test]
    fn address_of_another_mac_is_rejected() {
        let mut c = Case::new();
        c.cands = vec![Candidate { ipv4: ip("192.168.1.23"), source: Source::Registry }];
        c.probes.insert(ip("192.168.1.23"), ProbeOutcome::Banner("SSH-2.0-x".into()));
        c.neigh = table(&[("192.168.1.23", "52:54:00:99:99:99")]);
        let d = c.run();
        assert_eq!(d.status, Status::Initializing);
        assert!(d.details.iter().any(|x| x.contains("rejected")), "{:?}", d.details);
        assert_eq!(d.candidate, None);
    }

    #[test]
    fn console_confirms_unless_contradicted_or_contested() {
        let mut c = Case::new();
        c.console = vec![ip("10.0.0.5")];
        assert_eq!(c.run().confirmed, Some((ip("10.0.0.5"), Source::Console)));
        // another machine's MAC: a stale entry (no answered probe yet) vetoes nothing,
        // a fresh one (read after an answered probe) does
        c.neigh = table(&[("10.0.0.5", "52:54:00:99:99:99")]);
        assert_eq!(c.run().confirmed, Some((ip("10.0.0.5"), Source::Console)));
        c.probes.insert(ip("10.0.0.5"), ProbeOutcome::Refused);
        assert_eq!(c.run().confirmed, None);
        // ... unless that MAC is another VM's: its neighbour entry never outranks our console
        c.others.macs.insert("52:54:00:99:99:99".parse().unwrap_or(MacAddr::ZERO), "tulsa".into());
        assert_eq!(c.run().confirmed, Some((ip("10.0.0.5"), Source::Console)));
        c.others = OtherVms::default();
        c.neigh = table(&[]);
        c.others.console_ips.insert(ip("10.0.0.5"), "evil".into());
        assert_eq!(c.run().confirmed, None);
        c.neigh = table(&[("10.0.0.5", MAC)]);
        assert_eq!(c.run().confirmed, Some((ip("10.0.0.5"), Source::Console)));
    }

    #[test]
    fn running_needs_banner_and_finished_cloud_init() {
        let mut c = Case::new();
        c.console = vec![ip("10.0.0.5")];
        c.probes.insert(ip("10.0.0.5"), ProbeOutcome::OpenNoBanner);
        assert_eq!(c.run().status, Status::Booting);
        c.probes.insert(ip("10.0.0.5"), ProbeOutcome::Banner("SSH-2.0-OpenSSH_9.6".into()));
        assert_eq!(c.run().status, Status::Running);
        c.stage = CloudInitStage::ModulesConfig;
        let d = c.run();
        assert_eq!(d.status, Status::Booting);
        assert!(d.details[0].contains("cloud-init"));
        c.stage = CloudInitStage::Finished;
        assert_eq!(c.run().status, Status::Running);
    }

    #[test]
    fn one_mac_two_addresses_the_answering_one_wins() {
        let mut c = Case::new();
        c.cands = vec![Candidate { ipv4: ip("192.168.64.5"), source: Source::Neighbours }, Candidate { ipv4: ip("192.168.64.6"), source: Source::Neighbours }];
        c.neigh = table(&[("192.168.64.5", MAC), ("192.168.64.6", MAC)]);
        c.probes.insert(ip("192.168.64.5"), ProbeOutcome::TimedOut);
        c.probes.insert(ip("192.168.64.6"), ProbeOutcome::Refused);
        assert_eq!(c.run().confirmed, Some((ip("192.168.64.6"), Source::Neighbours)));
    }

    /// TN3179: a denied app gets EHOSTUNREACH (or EPERM) on connect while the neighbour
    /// table still has the address. Each error, with and without a neighbour entry.
    #[test]
    fn local_network_denial_is_named_only_where_the_errors_prove_it() {
        let cases = [
            // (outcome, neighbour entry, note expected)
            (ProbeOutcome::Unreachable("No route to host (os error 65)".into()), true, true),
            (ProbeOutcome::Unreachable("No route to host (os error 65)".into()), false, false),
            (ProbeOutcome::Denied("Operation not permitted (os error 1)".into()), true, true),
            (ProbeOutcome::Denied("Operation not permitted (os error 1)".into()), false, true),
            (ProbeOutcome::TimedOut, true, false),
            (ProbeOutcome::Error("Connection reset by peer".into()), true, false),
        ];
        for (outcome, entry, want) in cases {
            let mut c = Case::new();
            c.cands = vec![Candidate { ipv4: ip("192.168.1.23"), source: Source::Registry }];
            if entry {
                c.neigh = table(&[("192.168.1.23", MAC)]);
            }
            c.probes.insert(ip("192.168.1.23"), outcome.clone());
            let d = c.run();
            assert_eq!(d.status, Status::Initializing, "{outcome:?}");
            let codes: Vec<&str> = d.notes.iter().map(|n| n.code.as_str()).collect();
            assert_eq!(codes == ["local_network_denied"], want, "{outcome:?} with neighbour entry {entry}: notes {codes:?}, details {:?}", d.details);
            assert_eq!(d.details.iter().any(|x| x.contains(LOCAL_NETWORK_SETTING)), want, "{outcome:?} {entry}: {:?}", d.details);
        }
        // Not macOS: the same errors are a firewall's (a guest rejecting with ICMP host-prohibited
        // gives EHOSTUNREACH with a complete neighbour entry): never put down to Local Network.
        let mut c = Case::new();
        c.macos = false;
        c.cands = vec![Candidate { ipv4: ip("192.168.1.23"), source: Source::Registry }];
        c.neigh = table(&[("192.168.1.23", MAC)]);
        c.probes.insert(ip("192.168.1.23"), ProbeOutcome::Unreachable("No route to host (os error 113)".into()));
        let d = c.run();
        assert!(d.notes.is_empty() && !d.details.iter().any(|x| x.contains("Local Network")), "{:?}", d.details);
        // Off-link: never a Local Network matter (and never probed anyway).
        assert!(!local_network_denied(&ProbeOutcome::Denied("x".into()), true, false));
        assert!(!local_network_denied(&ProbeOutcome::Unreachable("x".into()), true, false));
    }

    #[test]
    fn unreachable_on_link_explains_local_network_privacy() {
        let mut c = Case::new();
        c.cands = vec![Candidate { ipv4: ip("192.168.1.23"), source: Source::Registry }];
        c.neigh = table(&[("192.168.1.23", MAC)]);
        c.probes.insert(ip("192.168.1.23"), ProbeOutcome::Unreachable("No route to host (os error 65)".into()));
        let d = c.run();
        assert_eq!(d.status, Status::Initializing);
        assert!(d.details.iter().any(|x| x.contains("Local Network")), "{:?}", d.details);
    }

    #[test]
    fn earlier_address_survives_until_another_mac_takes_it() {
        let mut c = Case::new();
        c.earlier = vec![(ip("10.0.0.5"), Source::Dns)];
        assert_eq!(c.run().confirmed, Some((ip("10.0.0.5"), Source::Dns)));
        c.neigh = table(&[("10.0.0.5", "52:54:00:99:99:99")]);
        assert_eq!(c.run().confirmed, None);
    }

    #[test]
    fn the_newest_confirmed_address_wins_and_a_superseded_table_address_goes() {
        // a DHCP change: .51 confirmed earlier (console), .61 newly confirmed by the neighbour table
        let mut c = Case::new();
        c.console = vec![ip("192.168.1.51")];
        c.earlier = vec![(ip("192.168.1.51"), Source::Console)];
        c.cands = vec![Candidate { ipv4: ip("192.168.1.61"), source: Source::Neighbours }];
        c.neigh = table(&[("192.168.1.61", MAC)]);
        c.probes.insert(ip("192.168.1.61"), ProbeOutcome::Refused);
        let d = c.run();
        assert_eq!(d.confirmed, Some((ip("192.168.1.61"), Source::Neighbours)));
        assert_eq!(d.all_confirmed, vec![(ip("192.168.1.51"), Source::Console), (ip("192.168.1.61"), Source::Neighbours)]);
        // next refresh: still .61
        c.earlier = d.all_confirmed;
        assert_eq!(c.run().confirmed, Some((ip("192.168.1.61"), Source::Neighbours)));
        // a second table in the same boot drops the first table's address
        let mut c = Case::new();
        c.console = vec![ip("192.168.1.61")];
        c.earlier = vec![(ip("192.168.1.51"), Source::Console)];
        c.probes.insert(ip("192.168.1.51"), ProbeOutcome::Banner("SSH-2.0-x".into()));
        let d = c.run();
        assert_eq!(d.all_confirmed, vec![(ip("192.168.1.61"), Source::Console)]);
    }

    #[test]
    fn off_link_addresses_are_never_confirmed_nor_offered() {
        let mut c = Case::new();
        c.routes = Some(RouteTable::from_prefixes(&["192.168.1.0/24"]));
        c.console = vec![ip("10.0.2.15")];
        c.cands = vec![Candidate { ipv4: ip("8.8.8.8"), source: Source::Dns }];
        c.earlier = vec![(ip("10.0.2.15"), Source::Console)];
        c.probes.insert(ip("8.8.8.8"), ProbeOutcome::Refused);
        c.neigh = table(&[("8.8.8.8", MAC)]);
        let d = c.run();
        assert_eq!((d.status, d.confirmed, d.candidate), (Status::Initializing, None, None), "{d:?}");
    }

    #[test]
    fn an_unverified_process_confirms_nothing_from_its_console() {
        let mut c = Case::new();
        c.live = Liveness::Unverified { pid: 1, started: 1, reason: "pid 1 is alive but its command line cannot be read".into() };
        c.console = vec![ip("10.0.0.5")];
        c.probes.insert(ip("10.0.0.5"), ProbeOutcome::Banner("SSH-2.0-x".into()));
        let d = c.run();
        assert_eq!(d.confirmed, None);
        assert_eq!(d.candidate, Some(Candidate { ipv4: ip("10.0.0.5"), source: Source::Console }));
        // the neighbour table can still confirm it (the MAC is the registry's)
        c.cands = vec![Candidate { ipv4: ip("10.0.0.5"), source: Source::Registry }];
        c.neigh = table(&[("10.0.0.5", MAC)]);
        assert_eq!(c.run().confirmed, Some((ip("10.0.0.5"), Source::Registry)));
    }
}
