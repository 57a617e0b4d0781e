//! The status rules: a pure function from one VM's observations to its status.
//!
//! No IO happens here; [`crate::engine`] gathers the observations. Every rule
//! of the product lives in [`decide`]:
//!
//! - no VM folder: `missing`; no live QEMU: `stopped`;
//! - a console-table address of the current boot for the VM's MAC is
//!   confirmed unless the neighbour table maps it to another MAC, or another
//!   VM's console claims it too (then only the neighbour table decides);
//! - any other candidate (registry, neighbours, DNS, leases) is confirmed when
//!   a probe of it was answered in this boot and the neighbour table, read
//!   after that probe, maps it to the VM's MAC; one that maps to another MAC
//!   is rejected with a detail;
//! - `running` needs the confirmed address's SSH port to have sent an `SSH-`
//!   banner, and cloud-init to have finished where this boot's console shows
//!   it started; `booting` otherwise; `initializing` without a confirmed address.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use crate::mac::MacAddr;
use crate::model::{Candidate, CloudInitStage, Source, Status};
use crate::neighbours::NeighbourTable;
use crate::probe::ProbeOutcome;
use crate::process::Liveness;

/// Everything known about one VM at one refresh.
#[derive(Debug, Clone)]
pub struct Observations<'a> {
    /// The VM folder exists.
    pub dir_exists: bool,
    /// The QEMU process check.
    pub liveness: &'a Liveness,
    /// The VM's MAC, when known.
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
    /// Addresses that the console tables of two or more VMs claim.
    pub contested: &'a HashSet<Ipv4Addr>,
    /// The address confirmed earlier in this same boot, if any.
    pub sticky: Option<(Ipv4Addr, Source)>,
}

/// The outcome for one VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The status.
    pub status: Status,
    /// The confirmed address and its source.
    pub confirmed: Option<(Ipv4Addr, Source)>,
    /// The best unconfirmed candidate when nothing is confirmed.
    pub candidate: Option<Candidate>,
    /// Human-readable notes, most important first.
    pub details: Vec<String>,
}

/// Applies the status rules (see the module docs).
pub fn decide(o: &Observations<'_>) -> Decision {
    let mut details = Vec::new();
    if !o.dir_exists {
        return Decision { status: Status::Missing, confirmed: None, candidate: None, details: vec!["no VM folder".into()] };
    }
    match o.liveness {
        Liveness::Dead(why) => {
            return Decision { status: Status::Stopped, confirmed: None, candidate: None, details: vec![why.clone()] };
        }
        Liveness::Unverified { reason, .. } => details.push(reason.clone()),
        Liveness::Alive { .. } => {}
    }
    let Some(mac) = o.mac else {
        details.push("MAC unknown (no registry mac_address, no mac= on the QEMU command line, no console table): cannot confirm an address".into());
        let candidate = o.console_ips.first().map(|ip| Candidate { ipv4: *ip, source: Source::Console }).or_else(|| o.candidates.first().copied());
        return Decision { status: Status::Initializing, confirmed: None, candidate, details };
    };

    let other_macs = |ip: Ipv4Addr| -> Vec<MacAddr> {
        let macs = o.neighbours.macs_for(ip);
        if macs.contains(&mac) {
            Vec::new()
        } else {
            macs
        }
    };
    let maps_to_us = |ip: Ipv4Addr| o.neighbours.macs_for(ip).contains(&mac);

    let mut confirmed: Vec<(Ipv4Addr, Source)> = Vec::new();
    let mut unconfirmed: Vec<Candidate> = Vec::new();
    if let Some((ip, src)) = o.sticky {
        let others = other_macs(ip);
        if others.is_empty() {
            confirmed.push((ip, src));
        } else {
            details.push(format!("{ip} now belongs to {} in the neighbour table", others[0]));
        }
    }
    for &ip in o.console_ips {
        let others = other_macs(ip);
        if !others.is_empty() {
            details.push(format!("console's {ip} belongs to {} in the neighbour table: rejected", others[0]));
        } else if o.contested.contains(&ip) && !maps_to_us(ip) {
            details.push(format!("console's {ip} is claimed by another VM's console too: waiting for the neighbour table"));
            unconfirmed.push(Candidate { ipv4: ip, source: Source::Console });
        } else if !confirmed.iter().any(|(c, _)| *c == ip) {
            confirmed.push((ip, Source::Console));
        }
    }
    for c in o.candidates {
        if confirmed.iter().any(|(ip, _)| *ip == c.ipv4) {
            continue;
        }
        let others = other_macs(c.ipv4);
        let probe = o.probes.get(&c.ipv4);
        if !others.is_empty() {
            details.push(format!("{}'s {} belongs to {} in the neighbour table: rejected", c.source, c.ipv4, others[0]));
        } else if probe.is_some_and(ProbeOutcome::answered) && maps_to_us(c.ipv4) {
            confirmed.push((c.ipv4, c.source));
        } else if !unconfirmed.iter().any(|u| u.ipv4 == c.ipv4) {
            unconfirmed.push(*c);
        }
    }

    // Probe errors worth telling: macOS Local Network privacy shows as EHOSTUNREACH
    // to an address the neighbour table knows (so it is on the local network).
    for (ip, outcome) in o.probes {
        if let ProbeOutcome::Unreachable(e) = outcome {
            if !o.neighbours.macs_for(*ip).is_empty() {
                details.push(format!(
                    "connections to {ip} are blocked ({e}) although it is on the local network: on macOS 15 or later, allow vmbar in System Settings > Privacy & Security > Local Network"
                ));
            }
        }
    }

    // One MAC at two addresses: the one that answers a probe wins.
    let chosen = confirmed.iter().find(|(ip, _)| o.probes.get(ip).is_some_and(ProbeOutcome::answered)).or(confirmed.first()).copied();
    let Some((ip, source)) = chosen else {
        let candidate = unconfirmed.first().copied();
        if let Some(c) = candidate {
            details.push(format!("{} from {} is not confirmed for this boot yet", c.ipv4, c.source));
        } else {
            details.push("no IPv4 yet".into());
        }
        return Decision { status: Status::Initializing, confirmed: None, candidate, details };
    };
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
    Decision { status, confirmed: Some((ip, source)), candidate: None, details }
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
        Liveness::Alive { pid: 1, started: 1, cmdline_mac: None }
    }

    struct Case {
        live: Liveness,
        console: Vec<Ipv4Addr>,
        cands: Vec<Candidate>,
        probes: HashMap<Ipv4Addr, ProbeOutcome>,
        neigh: NeighbourTable,
        contested: HashSet<Ipv4Addr>,
        stage: CloudInitStage,
        sticky: Option<(Ipv4Addr, Source)>,
    }
    impl Case {
        fn new() -> Self {
            Case { live: alive(), console: vec![], cands: vec![], probes: HashMap::new(), neigh: table(&[]), contested: HashSet::new(), stage: CloudInitStage::NotSeen, sticky: None }
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
                contested: &self.contested,
                sticky: self.sticky,
            })
        }
    }

    #[test]
    fn missing_and_stopped() {
        let c = Case::new();
        let mut o = Observations { dir_exists: false, liveness: &c.live, mac: None, console_ips: &[], cloud_init: CloudInitStage::NotSeen, candidates: &[], probes: &c.probes, neighbours: &c.neigh, contested: &c.contested, sticky: None };
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
        c.neigh = table(&[("10.0.0.5", "52:54:00:99:99:99")]);
        assert_eq!(c.run().confirmed, None);
        c.neigh = table(&[]);
        c.contested.insert(ip("10.0.0.5"));
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
    fn sticky_address_survives_until_another_mac_takes_it() {
        let mut c = Case::new();
        c.sticky = Some((ip("10.0.0.5"), Source::Dns));
        assert_eq!(c.run().confirmed, Some((ip("10.0.0.5"), Source::Dns)));
        c.neigh = table(&[("10.0.0.5", "52:54:00:99:99:99")]);
        assert_eq!(c.run().confirmed, None);
    }
}
