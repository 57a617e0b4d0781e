//! One refresh, from the files on disk to one [`VmReport`] per VM and the
//! [`StatusEvent`]s since the previous refresh.
//!
//! Order of work in [`Engine::refresh`]:
//! 1. list the VMs (folders of the VMs folder that look like VMs, plus registry names);
//! 2. per VM, local evidence: QEMU liveness ([`crate::process`]), the console's
//!    new bytes ([`crate::console::ConsoleTail`]), the MAC, the boot identity;
//! 3. shared tables once per refresh: neighbour table, lease files, the host's connected routes
//!    ([`crate::routes`]), what each live VM says about itself (MAC, console addresses);
//! 4. candidates per live VM (console, registry, neighbours, DNS, leases, as switched on);
//! 5. probes of the candidates on the host's links (other hints of a VM with a confirmed
//!    address at the slow pace) and SSH checks, all concurrent, awaited
//!    up to a budget (probes still running are picked up by a later refresh and
//!    wake the monitor when they end);
//! 6. the neighbour table again (after the probes), then [`crate::status::decide`];
//! 7. registry write-back of newly confirmed addresses; events.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::console::ConsoleTail;
use crate::dns::{self, Resolver, SystemResolver};
use crate::leases::{self, LeaseFile};
use crate::mac::MacAddr;
use crate::model::{BootId, Candidate, CloudInitStage, Note, Source, Status, StatusEvent, VmReport};
use crate::neighbours::NeighbourTable;
use crate::os::{NeighbourSource, OsNeighbours};
use crate::probe::{ProbeOutcome, Prober, TcpProber};
use crate::process::{self, Liveness, OsProcessTable, ProcessTable};
use crate::rate::RateLimit;
use crate::registry::{self, Registry, RegistryEntry};
use crate::routes::{OsRoutes, Routes};
use crate::status::{self, Observations, OtherVms};

/// The most addresses of one console table (rows for the VM's own MAC, in print
/// order) that become candidates: a guest may print any table, and each address
/// costs a probe.
pub const MAX_CONSOLE_CANDIDATES: usize = 4;

/// The IO ports the engine works through; tests replace any of them.
#[derive(Clone)]
pub struct Ports {
    /// The process table (liveness).
    pub processes: Arc<dyn ProcessTable>,
    /// The SSH prober.
    pub prober: Arc<dyn Prober>,
    /// The DNS resolver.
    pub resolver: Arc<dyn Resolver>,
    /// The neighbour table.
    pub neighbours: Arc<dyn NeighbourSource>,
    /// The host's connected routes (is an address on a link the host is attached to?).
    pub routes: Arc<dyn Routes>,
}

impl Ports {
    /// The real OS adapters for these settings.
    pub fn os(settings: &Settings) -> Self {
        Ports {
            processes: Arc::new(OsProcessTable),
            prober: Arc::new(TcpProber),
            resolver: Arc::new(SystemResolver),
            neighbours: Arc::new(OsNeighbours { command: settings.neighbours_command.clone(), timeout: Duration::from_millis(settings.probe.command_timeout_ms) }),
            routes: Arc::new(OsRoutes { timeout: Duration::from_millis(settings.probe.command_timeout_ms) }),
        }
    }
}

/// The result of one refresh.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// One report per VM, sorted by name.
    pub vms: Vec<VmReport>,
    /// Why vmbar cannot work at all (VMs folder missing or unreadable), if so.
    pub error: Option<String>,
    /// When the refresh ended.
    pub at: DateTime<Utc>,
}

/// How long a refresh waits for probes and lookups it started.
#[derive(Debug, Clone, Copy)]
pub struct RefreshOptions {
    /// Wait at most this long for this refresh's probes and DNS lookups; the
    /// rest are picked up by later refreshes. A one-shot `vmbar status` waits
    /// the full probe timeout.
    pub wait: Duration,
}

#[derive(Default)]
struct VmState {
    dir: PathBuf,
    console: Option<ConsoleTail>,
    status: Option<Status>,
    ipv4: Option<Ipv4Addr>,
    since: Option<DateTime<Utc>>,
    boot: Option<BootId>,
    /// Addresses confirmed at earlier refreshes of this boot, oldest first (re-evaluated by
    /// [`status::decide`] at every refresh).
    confirmed: Vec<(Ipv4Addr, Source)>,
    probes: HashMap<Ipv4Addr, (Instant, ProbeOutcome)>,
    pending: HashMap<Ipv4Addr, JoinHandle<ProbeOutcome>>,
    dns_pending: Option<JoinHandle<Result<Vec<Ipv4Addr>, String>>>,
    dns_last: Option<(Instant, Result<Vec<Ipv4Addr>, String>)>,
    written: Option<Ipv4Addr>,
    /// The console's [`ConsoleTail::rereads`] when `boot` was taken.
    console_rereads: u64,
    /// Registry write-backs of this VM: one a minute ([`crate::rate`]).
    write_limit: RateLimit,
}

impl VmState {
    /// Aborts the probes still running (a superseded boot's, or a VM that is gone): a guest
    /// that fakes reboots must not pile up tasks probing the addresses it chose.
    fn abort_probes(&mut self) {
        for (_, h) in self.pending.drain() {
            h.abort();
        }
    }
}

impl Drop for VmState {
    fn drop(&mut self) {
        self.abort_probes();
        if let Some(h) = self.dns_pending.take() {
            h.abort();
        }
    }
}

/// The detection engine: call [`Engine::refresh`] repeatedly (the
/// [`crate::monitor`] does it on file events and timers).
pub struct Engine {
    settings: Settings,
    ports: Ports,
    vms: BTreeMap<String, VmState>,
    started: DateTime<Utc>,
    wake: Arc<Notify>,
    first: bool,
}

/// Per-VM facts gathered before the network work.
struct Local {
    name: String,
    dir_exists: bool,
    liveness: Liveness,
    mac: Option<MacAddr>,
    /// The MAC came only from the guest's own console table (its claim, not a fact).
    mac_from_console: bool,
    /// Another running VM has the same MAC: no address is confirmed by it.
    mac_disputed: bool,
    /// Machine-readable remarks (`mac_conflict`).
    notes: Vec<Note>,
    console_ips: Vec<Ipv4Addr>,
    cloud_init: CloudInitStage,
    console_user: Option<String>,
    entry: Option<RegistryEntry>,
    details: Vec<String>,
    boot: Option<BootId>,
    candidates: Vec<Candidate>,
}

impl Engine {
    /// An engine on the real OS.
    pub fn new(settings: Settings) -> Self {
        let ports = Ports::os(&settings);
        Self::with_ports(settings, ports)
    }

    /// An engine on the given ports (tests).
    pub fn with_ports(settings: Settings, ports: Ports) -> Self {
        Engine { settings, ports, vms: BTreeMap::new(), started: Utc::now(), wake: Arc::new(Notify::new()), first: true }
    }

    /// The settings in use.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Replaces the settings (the tray app's settings form); per-VM state is kept
    /// when the VMs folder stays the same.
    pub fn reconfigure(&mut self, settings: Settings) {
        if settings.vms_dir != self.settings.vms_dir {
            self.vms.clear();
        }
        self.ports = Ports::os(&settings);
        self.settings = settings;
    }

    /// Notified whenever a background probe or lookup finishes, so that a
    /// monitor refreshes at once instead of at its next tick.
    pub fn wake_handle(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// True when some VM is initializing or booting (poll fast).
    pub fn busy(&self) -> bool {
        self.vms.values().any(|v| matches!(v.status, Some(Status::Initializing | Status::Booting)))
    }

    /// Runs one refresh and returns the snapshot and the events since the previous one.
    ///
    /// Never fails: problems become row details, or `Snapshot::error` when the
    /// VMs folder itself cannot be read.
    pub async fn refresh(&mut self, opts: RefreshOptions) -> (Snapshot, Vec<StatusEvent>) {
        let now = Utc::now();
        let s = self.settings.clone();

        // 1. VMs and the registry.
        let (registry, registry_problem) = match registry::read(&s.registry) {
            Ok(r) => (r.unwrap_or_default(), None),
            Err(e) => (Registry::default(), Some(e.to_string())),
        };
        let (dirs, error) = list_vm_dirs(&s.vms_dir);
        let mut names: BTreeMap<String, PathBuf> = BTreeMap::new();
        for (name, os_name) in dirs {
            names.insert(name, s.vms_dir.join(os_name));
        }
        for name in registry.vms.keys() {
            if !names.contains_key(name) {
                names.insert(name.clone(), s.vms_dir.join(safe_component(name)));
            }
        }
        // A VM whose folder vanished (and that is in no registry) leaves with one last
        // event, so that a watcher does not keep showing it.
        let mut events = Vec::new();
        let gone: Vec<String> = self.vms.keys().filter(|k| !names.contains_key(*k)).cloned().collect();
        for name in gone {
            if let Some(st) = self.vms.remove(&name) {
                if st.status.is_some_and(|s| s != Status::Missing) {
                    events.push(StatusEvent { name, from: st.status, to: Status::Missing, ipv4: None, at: Utc::now(), boot: None });
                }
            }
        }

        // 2. Local evidence.
        let mut locals: Vec<Local> = Vec::with_capacity(names.len());
        for (name, dir) in &names {
            let entry = registry.vms.get(name).cloned();
            let st = self.vms.entry(name.clone()).or_default();
            st.dir = dir.clone();
            let mut local = local_evidence(&s, self.ports.processes.as_ref(), name, dir, entry, st);
            if let Some(p) = &registry_problem {
                local.details.push(p.clone());
            }
            locals.push(local);
        }
        reject_borrowed_console_macs(&mut locals);
        flag_shared_macs(&mut locals);

        // 3. Shared tables.
        let neigh_before = self.ports.neighbours.read().await;
        let (routes, routes_problem) = match self.ports.routes.read().await {
            Ok(t) => (Some(t), None),
            Err(e) => (None, Some(format!("host routes: {e} (addresses are not checked for a connected route)"))),
        };
        let on_link = |ip: Ipv4Addr| status::on_link(routes.as_ref(), ip);
        // What each live VM says about itself: its MAC and its console's addresses.
        let mut vm_macs: Vec<(MacAddr, String)> = Vec::new();
        let mut vm_console_ips: Vec<(Ipv4Addr, String)> = Vec::new();
        for l in locals.iter().filter(|l| l.liveness_up()) {
            if let (Some(m), false, false) = (l.mac, l.mac_from_console, l.mac_disputed) {
                vm_macs.push((m, l.name.clone()));
                if s.sources.console && matches!(l.liveness, Liveness::Alive { .. }) {
                    vm_console_ips.extend(l.console_ips.iter().map(|ip| (*ip, l.name.clone())));
                }
            }
        }
        let others_of = |name: &str| OtherVms {
            console_ips: vm_console_ips.iter().filter(|(_, n)| n != name).map(|(ip, n)| (*ip, n.clone())).collect(),
            macs: vm_macs.iter().filter(|(_, n)| n != name).map(|(m, n)| (*m, n.clone())).collect(),
        };
        let leases = if s.sources.leases { read_leases(&s.lease_paths) } else { Vec::new() };
        let unix_now = now.timestamp();
        // The wait budget is for the probes and lookups, so it starts when they do: reading
        // many large console tails first must not use it up (a one-shot `vmbar status` of 50
        // VMs with 3 MiB consoles otherwise awaited none of its probes).
        let deadline = tokio::time::Instant::now() + opts.wait;

        // 4. Candidates; DNS lookups started.
        for l in locals.iter_mut() {
            if !l.liveness_up() {
                continue;
            }
            let mut cands: Vec<Candidate> = Vec::new();
            let push = |ip: Ipv4Addr, source: Source, cands: &mut Vec<Candidate>| {
                if crate::addr::is_usable_vm_ipv4(ip) && !cands.iter().any(|c| c.ipv4 == ip) {
                    cands.push(Candidate { ipv4: ip, source });
                }
            };
            if s.sources.registry {
                if let Some(ip) = l.entry.as_ref().and_then(|e| e.ip_address) {
                    push(ip, Source::Registry, &mut cands);
                }
            }
            if s.sources.neighbours {
                if let (Some(mac), Ok(t)) = (l.mac, &neigh_before) {
                    for ip in t.ipv4_for(mac) {
                        push(ip, Source::Neighbours, &mut cands);
                    }
                }
            }
            if s.sources.leases {
                let host = l.entry.as_ref().and_then(|e| e.hostname.clone()).unwrap_or_else(|| l.name.clone());
                for lf in &leases {
                    // The lease rule (LeaseFile::decide): only the VM's current lease, by MAC, DUID or
                    // name; superseded and expired leases never become candidates.
                    if let Some(lease) = lf.decide(l.mac, Some(&host), Some(unix_now)).current {
                        push(lease.ip, Source::Leases, &mut cands);
                    }
                }
            }
            l.candidates = cands;
        }
        if s.sources.dns {
            for l in locals.iter() {
                if !l.liveness_up() {
                    continue;
                }
                let host = l.entry.as_ref().and_then(|e| e.hostname.clone()).unwrap_or_else(|| l.name.clone());
                let Some(st) = self.vms.get_mut(&l.name) else { continue };
                if !dns::is_valid_hostname(&host) {
                    continue;
                }
                // Once an address is confirmed the name is still looked up, at the slow pace: a
                // new lease that only DNS knows must move a watch like it moves a one-shot status.
                let pace = if st.confirmed.is_empty() { s.probe.interval_fast_ms.max(1000) } else { s.probe.interval_slow_ms.max(1000) };
                let fresh = st.dns_last.as_ref().is_some_and(|(t, _)| t.elapsed() < Duration::from_millis(pace));
                if st.dns_pending.is_none() && !fresh {
                    let resolver = self.ports.resolver.clone();
                    let wake = self.wake.clone();
                    let timeout = Duration::from_millis(s.probe.dns_timeout_ms);
                    st.dns_pending = Some(tokio::spawn(async move {
                        let r = match tokio::time::timeout(timeout, resolver.lookup(host)).await {
                            Ok(r) => r,
                            Err(_) => Err(format!("DNS lookup timed out after {} ms", timeout.as_millis())),
                        };
                        wake.notify_one();
                        r
                    }));
                }
            }
        }

        // DNS answers of earlier refreshes are candidates now (probed below).
        for l in locals.iter_mut() {
            if let Some((_, Ok(addrs))) = self.vms.get(&l.name).and_then(|st| st.dns_last.as_ref()) {
                for ip in dns::usable(addrs) {
                    if l.liveness_up() && !l.candidates.iter().any(|c| c.ipv4 == ip) {
                        l.candidates.push(Candidate { ipv4: ip, source: Source::Dns });
                    }
                }
            }
        }

        // 5. Probes: unconfirmed candidates, console addresses, SSH checks.
        let probe_timeout = Duration::from_millis(s.probe.ssh_timeout_ms);
        for l in locals.iter() {
            if !l.liveness_up() {
                continue;
            }
            let Some(st) = self.vms.get_mut(&l.name) else { continue };
            let others = others_of(&l.name);
            let mut want: Vec<Ipv4Addr> = Vec::new();
            // The confirmed addresses, then every other hint: a second table or a new lease
            // must be noticed in a long-running watch too. Never an address off the host's
            // links (it would go through a gateway), nor one that another VM's console names
            // (it is never this VM's, unless this VM's console names it too).
            for ip in st.confirmed.iter().rev().map(|c| c.0).chain(l.console_ips.iter().copied()).chain(l.candidates.iter().map(|c| c.ipv4)) {
                let others_own = others.console_ips.contains_key(&ip) && !l.console_ips.contains(&ip);
                if !want.contains(&ip) && on_link(ip) && !others_own {
                    want.push(ip);
                }
            }
            let settled = st.ipv4.is_some();
            for ip in want {
                if st.pending.contains_key(&ip) {
                    continue;
                }
                let due = match st.probes.get(&ip) {
                    None => true,
                    Some((t, o)) => {
                        let age = t.elapsed();
                        // SSH etiquette: sshd counts every connection that never authenticates
                        // (OpenSSH 9.8+ PerSourcePenalties), so once a banner was read the port
                        // is re-checked rarely, also while cloud-init is still finishing.
                        if o.ssh_ready() && Some(ip) == st.ipv4 {
                            age >= Duration::from_millis(s.probe.ssh_recheck_ms)
                        } else if o.ssh_ready() {
                            age >= Duration::from_millis(s.probe.ssh_recheck_ms.min(10_000))
                        } else if settled && Some(ip) != st.ipv4 {
                            // other hints of a VM with a confirmed address: checked at the slow pace
                            age >= Duration::from_millis(s.probe.interval_slow_ms)
                        } else if o.answered() {
                            age >= Duration::from_millis(s.probe.interval_fast_ms)
                        } else {
                            // unanswered addresses are retried more slowly
                            age >= Duration::from_millis(s.probe.interval_fast_ms.max(1000))
                        }
                    }
                };
                if due {
                    let prober = self.ports.prober.clone();
                    let wake = self.wake.clone();
                    let port = l.entry.as_ref().and_then(|e| e.ssh_port).unwrap_or(22);
                    st.pending.insert(
                        ip,
                        tokio::spawn(async move {
                            let o = prober.probe(SocketAddrV4::new(ip, port), probe_timeout).await;
                            wake.notify_one();
                            o
                        }),
                    );
                }
            }
        }
        // Await what finishes within the budget.
        let mut probed_any = false;
        for st in self.vms.values_mut() {
            let ips: Vec<Ipv4Addr> = st.pending.keys().copied().collect();
            for ip in ips {
                let Some(handle) = st.pending.get_mut(&ip) else { continue };
                if handle.is_finished() || tokio::time::Instant::now() < deadline {
                    if let Ok(res) = tokio::time::timeout_at(deadline, &mut *handle).await {
                        st.pending.remove(&ip);
                        let outcome = res.unwrap_or_else(|e| ProbeOutcome::Error(e.to_string()));
                        st.probes.insert(ip, (Instant::now(), outcome));
                        probed_any = true;
                    }
                }
            }
            if let Some(h) = st.dns_pending.as_mut() {
                if h.is_finished() || tokio::time::Instant::now() < deadline {
                    if let Ok(res) = tokio::time::timeout_at(deadline, &mut *h).await {
                        st.dns_pending = None;
                        st.dns_last = Some((Instant::now(), res.unwrap_or_else(|e| Err(e.to_string()))));
                    }
                }
            }
        }
        // DNS answers become candidates (probed on the next refresh if new).
        let mut need_probe_again = false;
        for l in locals.iter_mut() {
            let Some(st) = self.vms.get(&l.name) else { continue };
            if let Some((_, res)) = &st.dns_last {
                match res {
                    Ok(addrs) => {
                        for ip in dns::usable(addrs) {
                            if l.liveness_up() && !l.candidates.iter().any(|c| c.ipv4 == ip) {
                                l.candidates.push(Candidate { ipv4: ip, source: Source::Dns });
                                if !st.probes.contains_key(&ip) {
                                    need_probe_again = true;
                                }
                            }
                        }
                    }
                    Err(e) if l.liveness_up() && st.confirmed.is_empty() => l.details.push(format!("DNS: {e}")),
                    Err(_) => {}
                }
            }
            if l.liveness_up() && st.dns_pending.is_some() && st.dns_last.is_none() {
                l.details.push("DNS lookup still pending".into());
            }
        }
        if need_probe_again {
            self.wake.notify_one();
        }

        // 6. The neighbour table after the probes, then the rules.
        let neigh_after = if probed_any { self.ports.neighbours.read().await } else { neigh_before };
        let (neigh, neigh_problem) = match neigh_after {
            Ok(t) => (t, None),
            Err(e) => (NeighbourTable::default(), Some(format!("neighbour table: {e}"))),
        };

        let mut reports = Vec::with_capacity(locals.len());
        for mut l in locals {
            let Some(st) = self.vms.get_mut(&l.name) else { continue };
            let probes: HashMap<Ipv4Addr, ProbeOutcome> = st.probes.iter().map(|(ip, (_, o))| (*ip, o.clone())).collect();
            let console_ips = if s.sources.console { l.console_ips.clone() } else { Vec::new() };
            let others = others_of(&l.name);
            let decision = status::decide(&Observations {
                dir_exists: l.dir_exists,
                liveness: &l.liveness,
                mac: if l.mac_disputed { None } else { l.mac },
                console_ips: &console_ips,
                cloud_init: l.cloud_init,
                candidates: &l.candidates,
                probes: &probes,
                neighbours: &neigh,
                others: &others,
                routes: routes.as_ref(),
                earlier: &st.confirmed,
                local_network_privacy: cfg!(target_os = "macos"),
            });
            if decision.status.is_up() {
                st.confirmed = decision.all_confirmed.clone();
            }
            for p in [&neigh_problem, &routes_problem].into_iter().flatten() {
                if decision.status.is_up() {
                    l.details.push(p.clone());
                }
            }
            // 7. Registry write-back.
            if let (Some((ip, _)), Some(entry)) = (decision.confirmed, l.entry.as_ref()) {
                if entry.ip_address != Some(ip) && st.written != Some(ip) && registry_problem.is_none() && st.write_limit.allow() {
                    match registry::write_ip(&s.registry, &l.name, ip) {
                        Ok(_) => st.written = Some(ip),
                        Err(e) => l.details.push(format!("registry write-back: {e}")),
                    }
                }
            }
            let ipv4 = decision.confirmed.map(|(ip, _)| ip);
            let changed = st.status != Some(decision.status) || st.ipv4 != ipv4;
            if st.status != Some(decision.status) || st.since.is_none() {
                st.since = Some(if st.status.is_none() { self.started.min(now) } else { now });
            }
            if changed || self.first {
                events.push(StatusEvent { name: l.name.clone(), from: st.status, to: decision.status, ipv4, at: Utc::now(), boot: l.boot });
            }
            st.status = Some(decision.status);
            st.ipv4 = ipv4;
            let mut details = decision.details;
            details.append(&mut l.details);
            l.notes.extend(decision.notes);
            let (ssh_user, user_notes) = pick_ssh_user([("registry", l.entry.as_ref().and_then(|e| e.ssh_user.as_deref())), ("console", l.console_user.as_deref()), ("config", s.ssh_user.as_deref())]);
            details.extend(user_notes.iter().map(|n| n.detail.clone()));
            l.notes.extend(user_notes);
            reports.push(VmReport {
                name: l.name.clone(),
                status: decision.status,
                ipv4,
                source: decision.confirmed.map(|(_, src)| src),
                confirmed: ipv4.is_some(),
                candidate: decision.candidate,
                mac: l.mac,
                ssh_user,
                ssh_port: l.entry.as_ref().and_then(|e| e.ssh_port).unwrap_or(22),
                since: st.since.unwrap_or(now),
                detail: if details.is_empty() { None } else { Some(details.join("; ")) },
                boot: if decision.status.is_up() { l.boot } else { None },
                cloud_init: l.cloud_init,
                notes: l.notes,
            });
        }
        self.first = false;
        (Snapshot { vms: reports, error, at: Utc::now() }, events)
    }
}

impl Local {
    fn liveness_up(&self) -> bool {
        self.dir_exists && !matches!(self.liveness, Liveness::Dead(_))
    }
}

fn local_evidence(s: &Settings, procs: &dyn ProcessTable, name: &str, dir: &Path, entry: Option<RegistryEntry>, st: &mut VmState) -> Local {
    let mut details = Vec::new();
    if let Some(e) = &entry {
        details.extend(e.problems.iter().cloned());
    }
    let valid_name = safe_component(name) == Path::new(name).as_os_str() && !name.is_empty();
    let dir_exists = valid_name && dir.is_dir();
    if !valid_name {
        details.push("registry name is not a usable folder name".into());
    }
    let pidfile = dir.join("qemu.pid");
    let liveness = if !dir_exists { Liveness::Dead("no VM folder".into()) } else { process::liveness(procs, &pidfile) };
    let (pid, started) = match &liveness {
        Liveness::Alive { pid, started, .. } | Liveness::Unverified { pid, started, .. } => (Some(*pid), *started),
        Liveness::Dead(_) => (None, 0),
    };

    // The console: read even when the console source is off (boots, cloud-init, MAC).
    let mut console_view = None;
    if dir_exists {
        let tail = st.console.get_or_insert_with(|| ConsoleTail::new(s.console_tail_bytes));
        tail.set_process(pid.map(|p| (p, started)));
        match tail.update(&dir.join("console.log")) {
            Ok(true) => {
                // Content written before this QEMU started belongs to an earlier boot.
                let predates = pid.is_some() && tail.mtime.is_some_and(|m| (m + 1) < started as i64);
                if !predates {
                    console_view = Some(tail.parser().current().clone());
                }
            }
            Ok(false) => {}
            Err(e) => details.push(e.to_string()),
        }
    }
    let cmd_mac = match &liveness {
        Liveness::Alive { cmdline_mac, .. } => *cmdline_mac,
        _ => None,
    };
    let console_mac = console_view.as_ref().and_then(|v| v.table.as_ref()).and_then(|t| {
        let macs = t.macs();
        if macs.len() == 1 {
            Some(macs[0])
        } else {
            None
        }
    });
    // The running QEMU's mac= is the truth; a registry mac_address that disagrees is reported.
    let reg_mac = entry.as_ref().and_then(|e| e.mac_address);
    let mut notes = Vec::new();
    if let (Some(r), Some(c)) = (reg_mac, cmd_mac) {
        if r != c {
            let detail = format!("mac_conflict: the registry's mac_address is {r} but the running QEMU has mac={c}; {c} is used");
            details.push(detail.clone());
            notes.push(Note { code: "mac_conflict".into(), detail });
        }
    }
    let known_mac = cmd_mac.or(reg_mac);
    let mac = known_mac.or(console_mac);
    let console_ips = match (&console_view, mac) {
        // The guest chooses these: only the first few of its own MAC's rows are candidates.
        (Some(v), Some(m)) => v.table.as_ref().map(|t| t.ipv4_for(m).into_iter().take(MAX_CONSOLE_CANDIDATES).collect()).unwrap_or_default(),
        _ => Vec::new(),
    };
    let boot = pid.map(|pid| BootId { pid, started, console_boot: console_view.as_ref().and_then(|v| v.start) });
    let rereads = st.console.as_ref().map_or(0, ConsoleTail::rereads);
    if boot != st.boot || rereads != st.console_rereads {
        st.console_rereads = rereads;
        // A new boot: nothing confirmed for an earlier one counts.
        st.boot = boot;
        st.confirmed.clear();
        st.probes.clear();
        st.abort_probes();
        st.dns_last = None;
        st.written = None;
    }
    Local {
        name: name.to_owned(),
        dir_exists,
        liveness,
        mac,
        mac_from_console: known_mac.is_none() && mac.is_some(),
        mac_disputed: false,
        notes,
        console_ips,
        cloud_init: console_view.as_ref().map(|v| v.cloud_init).unwrap_or_default(),
        console_user: console_view.as_ref().and_then(|v| v.ssh_user().map(str::to_owned)),
        entry,
        details,
        boot,
        candidates: Vec::new(),
    }
}

/// The ssh user of a report, decided once here: the first of the registry's, the console's
/// (cloud-init's) and the config's users that [`crate::ssh::valid_user`] accepts. Each user
/// refused on the way becomes an `invalid_ssh_user` note naming its source (the value
/// escaped), so the report never carries a user outside the portable set, whatever the
/// registry, the guest or a program-made `Settings` says.
fn pick_ssh_user(sources: [(&str, Option<&str>); 3]) -> (Option<String>, Vec<Note>) {
    let mut notes = Vec::new();
    for (origin, user) in sources {
        let Some(user) = user else { continue };
        if crate::ssh::valid_user(user) {
            return (Some(user.to_owned()), notes);
        }
        notes.push(Note {
            code: "invalid_ssh_user".into(),
            detail: format!(
                "{origin} ssh_user \"{}\" is not a user name (A-Z a-z 0-9 . _ - @, at most {} bytes, not starting with -): ignored",
                escape_value(user, 64),
                crate::ssh::MAX_USER_BYTES
            ),
        });
    }
    (None, notes)
}

/// `s` for a note: printable ASCII kept (`\` and `"` backslash-escaped), every other character
/// as `\u{XXXX}`, at most `max` characters of `s` (then `...`).
fn escape_value(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push_str("...");
            break;
        }
        match c {
            '\\' | '"' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
        }
    }
    out
}

/// A MAC read only from a guest's console is that guest's claim: a guest can
/// print any table. It is dropped (with the console's addresses) when it is
/// another VM's known MAC (registry or QEMU command line), or when the
/// consoles of two VMs both claim it, so a fake table never gives one VM
/// another VM's address.
fn reject_borrowed_console_macs(locals: &mut [Local]) {
    let mut known: HashMap<MacAddr, String> = HashMap::new();
    let mut claims: HashMap<MacAddr, usize> = HashMap::new();
    for l in locals.iter() {
        match (l.mac, l.mac_from_console) {
            (Some(m), false) => {
                known.insert(m, l.name.clone());
            }
            (Some(m), true) => *claims.entry(m).or_default() += 1,
            _ => {}
        }
    }
    for l in locals.iter_mut().filter(|l| l.mac_from_console) {
        let Some(m) = l.mac else { continue };
        let why = match known.get(&m) {
            Some(other) if *other != l.name => format!("the console's table names {m}, the MAC of VM {other}: ignored"),
            _ if claims.get(&m).copied().unwrap_or(0) > 1 => format!("the console's table names {m}, which another VM's console claims too: ignored"),
            _ => continue,
        };
        l.details.push(why);
        l.mac = None;
        l.mac_from_console = false;
        l.console_ips.clear();
    }
}

/// Two running VMs with one known MAC (QEMU `mac=`, else the registry): the
/// neighbour table cannot tell them apart, so both are flagged (`mac_conflict`)
/// and no address is confirmed for either by that MAC.
fn flag_shared_macs(locals: &mut [Local]) {
    let mut by_mac: HashMap<MacAddr, Vec<String>> = HashMap::new();
    for l in locals.iter().filter(|l| l.liveness_up() && !l.mac_from_console) {
        if let Some(m) = l.mac {
            by_mac.entry(m).or_default().push(l.name.clone());
        }
    }
    for l in locals.iter_mut().filter(|l| l.liveness_up() && !l.mac_from_console) {
        let Some(m) = l.mac else { continue };
        let others: Vec<&String> = by_mac.get(&m).map(|v| v.iter().filter(|n| **n != l.name).collect()).unwrap_or_default();
        if others.is_empty() {
            continue;
        }
        let names: Vec<&str> = others.iter().map(|n| n.as_str()).collect();
        let detail = format!("mac_conflict: running VM {} has the same MAC {m}: no address is confirmed by it", names.join(", "));
        l.details.push(detail.clone());
        l.notes.push(Note { code: "mac_conflict".into(), detail });
        l.mac_disputed = true;
    }
}

/// A registry name as one path component: names holding `/`, `\0`, or equal
/// to `.`/`..` map to a component that cannot exist, so they never escape the VMs folder.
fn safe_component(name: &str) -> OsString {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        OsString::from(".vmbar-invalid-name")
    } else {
        OsString::from(name)
    }
}

/// The VM folders: non-hidden subfolders holding `console.log`, `qemu.pid` or a
/// disk image (`*.qcow2`, `*.img`, `*.raw`). Non-UTF-8 names are shown with
/// their invalid bytes as `\xNN`, so two names never collide.
fn list_vm_dirs(vms_dir: &Path) -> (Vec<(String, OsString)>, Option<String>) {
    let rd = match std::fs::read_dir(vms_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), Some(format!("the VMs folder {} does not exist", vms_dir.display()))),
        Err(e) => return (Vec::new(), Some(crate::privacy::folder_error("the VMs folder", vms_dir, &e, dirs::home_dir().as_deref(), cfg!(target_os = "macos")))),
    };
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let os_name = entry.file_name();
        let bytes = os_name.as_encoded_bytes();
        if bytes.first() == Some(&b'.') {
            continue;
        }
        let path = entry.path();
        if !path.is_dir() || !looks_like_vm(&path) {
            continue;
        }
        out.push((display_name(&os_name), os_name));
    }
    // A non-UTF-8 name's `\xNN` spelling can equal a real UTF-8 folder name:
    // mark the non-UTF-8 one so that both are shown and neither replaces the other.
    let utf8: HashSet<String> = out.iter().filter(|(_, o)| o.to_str().is_some()).map(|(n, _)| n.clone()).collect();
    let mut taken: HashSet<String> = utf8.clone();
    for (name, os_name) in out.iter_mut() {
        if os_name.to_str().is_some() {
            continue;
        }
        let mut candidate = name.clone();
        while taken.contains(&candidate) {
            candidate.push_str(" (not UTF-8)");
        }
        taken.insert(candidate.clone());
        *name = candidate;
    }
    (out, None)
}

fn looks_like_vm(dir: &Path) -> bool {
    if dir.join("console.log").exists() || dir.join("qemu.pid").exists() {
        return true;
    }
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().any(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.ends_with(".qcow2") || n.ends_with(".img") || n.ends_with(".raw")
        }),
        // A folder the user may not read is shown (with the reason in its row),
        // not silently dropped.
        Err(e) => e.kind() == std::io::ErrorKind::PermissionDenied,
    }
}

/// The shown name of a folder: itself when UTF-8; otherwise invalid bytes as `\xNN`.
pub fn display_name(name: &std::ffi::OsStr) -> String {
    match name.to_str() {
        Some(s) => s.to_owned(),
        None => {
            let mut out = String::new();
            for chunk in name.as_encoded_bytes().utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out
        }
    }
}

fn read_leases(paths: &[PathBuf]) -> Vec<LeaseFile> {
    let mut out = Vec::new();
    for p in crate::os::lease_files(paths) {
        if let Ok(meta) = std::fs::metadata(&p) {
            if !meta.is_file() || meta.len() > 64 << 20 {
                continue;
            }
        }
        if let Ok(bytes) = std::fs::read(&p) {
            out.push(leases::parse(&String::from_utf8_lossy(&bytes)));
        }
    }
    out
}
