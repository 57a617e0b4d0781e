//! When to send a desktop notification: "NAME is ready" once per boot when a VM reaches
//! `running`, "NAME stopped" when it goes from booting or running to stopped, "NAME has a new
//! address: IP" once per change of the confirmed address inside one boot (a second console table,
//! a new DHCP lease: issue #9 case 6). Pure: it only reads the engine's events and reports, so the
//! rule is tested without a notification server.
//!
//! Once per boot is keyed by the engine's [`BootId`] (QEMU pid + start time + guest boot offset):
//! an SSH flap (running -> booting -> running in the same boot) does not notify again, a reboot
//! (new `BootId`) does, and a VM first seen already running (the app's start, the first update,
//! whose events have `from: None`) is remembered as announced without a notification.
//!
//! A guest can fake reboots (a kernel banner on its console is a new boot): "ready" is sent at
//! most once a minute per VM (`vmbar_engine::rate`, the same rule as the registry write-back);
//! a boot that reaches running inside that minute is remembered as announced, never sent later.
//! A guest can print new tables too: "new address" has its own limit of one a minute per VM.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Instant;

use vmbar_engine::rate::RateLimit;
use vmbar_engine::{BootId, Status, StatusEvent, VmReport};

/// What kind of notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The VM reached `running` in a boot not announced before.
    Ready,
    /// The VM went from booting or running to stopped.
    Stopped,
    /// The confirmed IPv4 of a booting or running VM changed inside one boot.
    NewAddress,
}

/// One notification to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Ready or stopped.
    pub kind: Kind,
    /// The VM's name.
    pub name: String,
    /// "fargo is ready" / "fargo stopped" / "fargo has a new address: 192.168.1.61".
    pub title: String,
    /// Ready and new address: the confirmed IPv4 and the ssh command on two lines. Stopped: the
    /// last status.
    pub body: String,
}

/// The once-per-boot memory: for each VM, the last boot announced as ready (or seen running at
/// start). Lives as long as the app.
#[derive(Debug, Default)]
pub struct NotifyRule {
    announced: HashMap<String, Option<BootId>>,
    /// "Ready" notices per VM: one a minute.
    ready_limit: HashMap<String, RateLimit>,
    /// The last confirmed IPv4 each VM's events carried, with its boot.
    addresses: HashMap<String, (Option<BootId>, Ipv4Addr)>,
    /// "New address" notices per VM: one a minute.
    address_limit: HashMap<String, RateLimit>,
}

impl NotifyRule {
    /// An empty memory (nothing announced yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one engine update (its events, and the reports after it) and returns the notices to
    /// send, in event order. `ssh_command` gives a VM's `ssh ...` line (the engine's quoting).
    /// Call it for every update, also when notifications are off, so that turning them on later
    /// does not announce old boots.
    pub fn observe(
        &mut self,
        events: &[StatusEvent],
        vms: &[VmReport],
        ssh_command: impl Fn(&VmReport) -> Option<String>,
    ) -> Vec<Notice> {
        self.observe_at(events, vms, ssh_command, Instant::now())
    }

    /// [`NotifyRule::observe`] at the given moment (the rate limit's clock; tests).
    pub fn observe_at(
        &mut self,
        events: &[StatusEvent],
        vms: &[VmReport],
        ssh_command: impl Fn(&VmReport) -> Option<String>,
        now: Instant,
    ) -> Vec<Notice> {
        let mut out = Vec::new();
        for ev in events {
            // A new confirmed address in the same boot while the status stays up (booting or
            // running): once per change. A new boot's address is not a change (its "ready" says it).
            let before = match ev.ipv4 {
                Some(ip) => self.addresses.insert(ev.name.clone(), (ev.boot, ip)),
                None => self.addresses.remove(&ev.name),
            };
            if let (Some(from), Some(ip), Some((boot, old))) = (ev.from, ev.ipv4, before) {
                if from == ev.to && matches!(ev.to, Status::Booting | Status::Running) && boot == ev.boot && old != ip {
                    if !self.address_limit.entry(ev.name.clone()).or_default().allow_at(now) {
                        continue; // a guest printing table after table: at most one a minute
                    }
                    let vm = vms.iter().find(|v| v.name == ev.name);
                    let mut lines = vec![ip.to_string()];
                    if let Some(cmd) = vm.filter(|v| v.ipv4 == Some(ip)).and_then(&ssh_command) {
                        lines.push(cmd);
                    }
                    out.push(Notice {
                        kind: Kind::NewAddress,
                        name: ev.name.clone(),
                        title: format!("{} has a new address: {ip}", ev.name),
                        body: lines.join("\n"),
                    });
                    continue;
                }
            }
            match (ev.from, ev.to) {
                // First sighting (app start, or a VM that appeared): remember, never notify.
                (None, Status::Running) => {
                    self.announced.insert(ev.name.clone(), ev.boot);
                }
                (None, _) => {}
                (Some(from), Status::Running) if from != Status::Running => {
                    if self.announced.get(&ev.name) == Some(&ev.boot) {
                        continue; // the same boot: an SSH or cloud-init flap
                    }
                    self.announced.insert(ev.name.clone(), ev.boot);
                    if !self.ready_limit.entry(ev.name.clone()).or_default().allow_at(now) {
                        continue; // a guest faking reboots: at most one "ready" a minute
                    }
                    let vm = vms.iter().find(|v| v.name == ev.name);
                    // Only a confirmed address: the report's (confirmed) or the event's.
                    let ip = vm.and_then(|v| v.ipv4.filter(|_| v.confirmed)).or(ev.ipv4);
                    let mut lines = Vec::new();
                    if let Some(ip) = ip {
                        lines.push(ip.to_string());
                    }
                    if let Some(cmd) = vm.and_then(&ssh_command) {
                        lines.push(cmd);
                    }
                    if lines.is_empty() {
                        lines.push("running".into());
                    }
                    out.push(Notice {
                        kind: Kind::Ready,
                        name: ev.name.clone(),
                        title: format!("{} is ready", ev.name),
                        body: lines.join("\n"),
                    });
                }
                (Some(from @ (Status::Booting | Status::Running)), Status::Stopped) => out.push(Notice {
                    kind: Kind::Stopped,
                    name: ev.name.clone(),
                    title: format!("{} stopped", ev.name),
                    body: format!("was {from}"),
                }),
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{ev, vm};

    fn boot(pid: u32, console: Option<u64>) -> Option<BootId> {
        Some(BootId { pid, started: 1_700_000_000, console_boot: console })
    }

    fn ssh(v: &VmReport) -> Option<String> {
        v.ipv4.map(|ip| format!("ssh ubuntu@{ip}"))
    }

    #[test]
    fn ready_once_per_boot_with_ip_and_ssh_command() {
        let mut r = NotifyRule::new();
        let vms = [vm("fargo", Status::Running, Some("10.0.0.5"))];
        assert!(r.observe(&[ev("fargo", None, Status::Stopped, boot(0, None))], &vms, ssh).is_empty());
        let b = boot(42, None);
        assert!(r.observe(&[ev("fargo", Some(Status::Stopped), Status::Initializing, b)], &vms, ssh).is_empty());
        assert!(r.observe(&[ev("fargo", Some(Status::Initializing), Status::Booting, b)], &vms, ssh).is_empty());
        let n = r.observe(&[ev("fargo", Some(Status::Booting), Status::Running, b)], &vms, ssh);
        assert_eq!(
            n,
            [Notice {
                kind: Kind::Ready,
                name: "fargo".into(),
                title: "fargo is ready".into(),
                body: "10.0.0.5\nssh ubuntu@10.0.0.5".into()
            }]
        );
        // SSH flaps in the same boot: no second notice.
        assert!(r.observe(&[ev("fargo", Some(Status::Running), Status::Booting, b)], &vms, ssh).is_empty());
        assert!(r.observe(&[ev("fargo", Some(Status::Booting), Status::Running, b)], &vms, ssh).is_empty());
    }

    #[test]
    fn guest_reboot_in_the_same_qemu_notifies_again() {
        let mut r = NotifyRule::new();
        let vms = [vm("fargo", Status::Running, Some("10.0.0.5"))];
        r.observe(&[ev("fargo", None, Status::Booting, boot(42, None))], &vms, ssh);
        assert_eq!(r.observe(&[ev("fargo", Some(Status::Booting), Status::Running, boot(42, None))], &vms, ssh).len(), 1);
        let b2 = boot(42, Some(9000));
        // (a minute later: "ready" is rate-limited per VM, see the next test)
        let later = Instant::now() + vmbar_engine::rate::GUEST_TRIGGERED_INTERVAL;
        r.observe_at(&[ev("fargo", Some(Status::Running), Status::Initializing, b2)], &vms, ssh, later);
        let n = r.observe_at(&[ev("fargo", Some(Status::Initializing), Status::Running, b2)], &vms, ssh, later);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].title, "fargo is ready");
    }

    #[test]
    fn already_running_at_start_is_not_announced_until_its_next_boot() {
        let mut r = NotifyRule::new();
        let vms = [vm("fargo", Status::Running, Some("10.0.0.5")), vm("other", Status::Stopped, None)];
        let b = boot(7, None);
        let first = [ev("fargo", None, Status::Running, b), ev("other", None, Status::Stopped, None)];
        assert!(r.observe(&first, &vms, ssh).is_empty());
        // A flap of the already-running VM: still nothing.
        r.observe(&[ev("fargo", Some(Status::Running), Status::Booting, b)], &vms, ssh);
        assert!(r.observe(&[ev("fargo", Some(Status::Booting), Status::Running, b)], &vms, ssh).is_empty());
        // QEMU restarted: a new boot, announced.
        let n = r.observe(&[ev("fargo", Some(Status::Booting), Status::Running, boot(8, None))], &vms, ssh);
        assert_eq!(n.len(), 1);
    }

    #[test]
    fn a_guest_faking_reboots_is_announced_at_most_once_a_minute() {
        // Each fake kernel banner is a new boot that reaches running again at once.
        let mut r = NotifyRule::new();
        let vms = [vm("fargo", Status::Running, Some("10.0.0.5")), vm("other", Status::Running, Some("10.0.0.6"))];
        r.observe(&[ev("fargo", None, Status::Stopped, None), ev("other", None, Status::Stopped, None)], &vms, ssh);
        let mut ready = 0;
        for n in 0..10 {
            let b = boot(42, Some(1000 * n));
            ready += r.observe(&[ev("fargo", Some(Status::Initializing), Status::Running, b)], &vms, ssh).len();
        }
        assert_eq!(ready, 1, "a guest faking reboots got {ready} \"ready\" notifications inside a minute");
        // Another VM has its own limit.
        assert_eq!(r.observe(&[ev("other", Some(Status::Booting), Status::Running, boot(7, None))], &vms, ssh).len(), 1);
        // A minute later the next boot is announced again; a boot skipped inside the minute never is.
        let later = Instant::now() + vmbar_engine::rate::GUEST_TRIGGERED_INTERVAL;
        assert_eq!(r.observe_at(&[ev("fargo", Some(Status::Booting), Status::Running, boot(42, Some(9000)))], &vms, ssh, later).len(), 0, "boot 9000 was already seen");
        assert_eq!(r.observe_at(&[ev("fargo", Some(Status::Booting), Status::Running, boot(43, None))], &vms, ssh, later).len(), 1);
    }

    #[test]
    fn stopped_only_from_booting_or_running() {
        let mut r = NotifyRule::new();
        let vms = [vm("fargo", Status::Stopped, None)];
        let stop = |from| ev("fargo", Some(from), Status::Stopped, None);
        let n = r.observe(&[stop(Status::Running)], &vms, ssh);
        assert_eq!(n.len(), 1);
        assert_eq!((n[0].kind, n[0].title.as_str()), (Kind::Stopped, "fargo stopped"));
        assert_eq!(r.observe(&[stop(Status::Booting)], &vms, ssh).len(), 1);
        assert!(r.observe(&[stop(Status::Initializing)], &vms, ssh).is_empty());
        assert!(r.observe(&[stop(Status::Missing)], &vms, ssh).is_empty());
        assert!(r.observe(&[ev("fargo", None, Status::Stopped, None)], &vms, ssh).is_empty());
    }

    #[test]
    fn a_new_address_in_the_same_boot_is_notified_once_per_change() {
        // Issue #9 case 6: a second table or a new lease inside one boot.
        let mut r = NotifyRule::new();
        let b = boot(42, None);
        let at = |from, to, ip: &str| StatusEvent { ipv4: ip.parse().ok(), ..ev("fargo", from, to, b) };
        let vms = [vm("fargo", Status::Running, Some("192.168.1.61"))];
        r.observe(&[at(None, Status::Initializing, "")], &vms, ssh);
        r.observe(&[at(Some(Status::Initializing), Status::Booting, "192.168.1.51")], &vms, ssh);
        assert_eq!(r.observe(&[at(Some(Status::Booting), Status::Running, "192.168.1.51")], &vms, ssh).len(), 1, "ready");
        let n = r.observe(&[at(Some(Status::Running), Status::Running, "192.168.1.61")], &vms, ssh);
        assert_eq!(
            n,
            [Notice {
                kind: Kind::NewAddress,
                name: "fargo".into(),
                title: "fargo has a new address: 192.168.1.61".into(),
                body: "192.168.1.61\nssh ubuntu@192.168.1.61".into()
            }]
        );
        // the same address again (a repeated line): nothing; another change inside the minute: not
        // sent (a guest printing table after table), a minute later: sent
        assert!(r.observe(&[at(Some(Status::Running), Status::Running, "192.168.1.61")], &vms, ssh).is_empty());
        assert!(r.observe(&[at(Some(Status::Running), Status::Running, "192.168.1.71")], &vms, ssh).is_empty());
        let later = Instant::now() + vmbar_engine::rate::GUEST_TRIGGERED_INTERVAL;
        assert_eq!(r.observe_at(&[at(Some(Status::Running), Status::Running, "192.168.1.81")], &vms, ssh, later).len(), 1);
        // a new boot with a new address is a "ready", not a "new address"
        let b2 = boot(43, None);
        let later = later + vmbar_engine::rate::GUEST_TRIGGERED_INTERVAL;
        r.observe_at(&[StatusEvent { ipv4: None, ..ev("fargo", Some(Status::Running), Status::Initializing, b2) }], &vms, ssh, later);
        let n = r.observe_at(&[StatusEvent { ipv4: "192.168.1.91".parse().ok(), ..ev("fargo", Some(Status::Initializing), Status::Running, b2) }], &vms, ssh, later);
        assert_eq!(n.iter().map(|n| n.kind).collect::<Vec<_>>(), [Kind::Ready]);
    }

    #[test]
    fn a_candidate_never_reaches_the_notification() {
        let mut r = NotifyRule::new();
        let mut v = vm("fargo", Status::Running, None);
        v.candidate = Some(vmbar_engine::Candidate { ipv4: "192.168.1.23".parse().unwrap(), source: vmbar_engine::Source::Registry });
        let n = r.observe(&[ev("fargo", Some(Status::Booting), Status::Running, boot(1, None))], &[v], ssh);
        assert_eq!(n.len(), 1);
        assert!(!n[0].body.contains("192.168.1.23"), "{}", n[0].body);
    }
}
