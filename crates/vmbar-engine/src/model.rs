//! The engine's public vocabulary: statuses, sources, boot identities and the
//! per-VM report that the CLI prints and the tray app shows.
//!
//! The JSON shapes here are a stable contract (`vmbar status --json`,
//! `vmbar watch --json`, the tray app's IPC): add fields, never rename them.

use std::fmt;
use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::mac::MacAddr;

/// The status of one VM, exactly one of five (serialised lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The VM directory does not exist (the name is only in the registry, or was asked for).
    Missing,
    /// No live QEMU process for this VM (no pidfile, a dead pid, or a pid reused by another program).
    Stopped,
    /// The QEMU process is up, but no IPv4 is confirmed for the current boot.
    Initializing,
    /// An IPv4 is confirmed for the current boot; SSH is not ready yet.
    Booting,
    /// An IPv4 is confirmed for the current boot and its SSH port sends an `SSH-` banner
    /// (and cloud-init finished, where this boot's console shows it started).
    Running,
}

impl Status {
    /// The lower-case name used in JSON and tables (`"running"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Missing => "missing",
            Status::Stopped => "stopped",
            Status::Initializing => "initializing",
            Status::Booting => "booting",
            Status::Running => "running",
        }
    }

    /// True for the statuses in which a QEMU process is alive.
    pub fn is_up(self) -> bool {
        matches!(self, Status::Initializing | Status::Booting | Status::Running)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an IPv4 address came from (serialised lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// cloud-init's ci-info Net device info table (or CirrOS `if-info:`) in this boot's `console.log`.
    Console,
    /// The cached `.vms[NAME].ip_address` in `registry.json`.
    Registry,
    /// The host's neighbour (ARP) table, looked up by the VM's MAC.
    Neighbours,
    /// The system resolver (getaddrinfo) for the VM's hostname.
    Dns,
    /// A DHCP lease file (bootpd `dhcpd_leases`, dnsmasq, libvirt).
    Leases,
}

impl Source {
    /// The lower-case name used in JSON, tables and the `[sources]` config table.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Console => "console",
            Source::Registry => "registry",
            Source::Neighbours => "neighbours",
            Source::Dns => "dns",
            Source::Leases => "leases",
        }
    }

    /// All sources, best first (the order of the detection cascade).
    pub const ALL: [Source; 5] = [Source::Console, Source::Registry, Source::Neighbours, Source::Dns, Source::Leases];
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identity of one boot: one QEMU process (pid and start time) and,
/// inside it, one guest boot (the byte offset in `console.log` of the last
/// boot boundary: a kernel `Linux version` banner, a kernel-timestamp restart
/// or a new cloud-init `init-local` stage). A guest reboot inside the same
/// QEMU changes `console_boot`; a QEMU restart changes `pid`/`started`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BootId {
    /// The QEMU process id read from the pidfile.
    pub pid: u32,
    /// The process start time, seconds since the Unix epoch (from `proc(5)` stat field 22 on Linux,
    /// `kinfo_proc.p_starttime` on macOS, via the `sysinfo` crate).
    pub started: u64,
    /// Byte offset in `console.log` of the line that began the current guest boot,
    /// or `None` while the console shows only one boot.
    pub console_boot: Option<u64>,
}

/// An IPv4 address that some source suggested but that is not confirmed for the
/// current boot: shown greyed, never copied, never notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The suggested address.
    pub ipv4: Ipv4Addr,
    /// The source that suggested it.
    pub source: Source,
}

/// cloud-init's progress in the current boot, as seen on the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CloudInitStage {
    /// No cloud-init line seen in this boot.
    #[default]
    NotSeen,
    /// `init-local` (cloud-init's local stage) is running.
    InitLocal,
    /// `init` (the network stage, which prints the ci-info table) is running.
    Init,
    /// `modules:config` is running.
    ModulesConfig,
    /// `modules:final` is running.
    ModulesFinal,
    /// `Cloud-init v. ... finished at ...` was printed.
    Finished,
}

/// One VM as the engine sees it after a refresh. Serialised as one object of
/// `vmbar status --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VmReport {
    /// The VM's name: its folder name in the VMs folder, or its registry key.
    /// Shown exactly; never passed to a shell.
    pub name: String,
    /// One of the five statuses.
    pub status: Status,
    /// The IPv4 confirmed for the current boot, else `None`.
    pub ipv4: Option<Ipv4Addr>,
    /// The source of `ipv4`, else `None`.
    pub source: Option<Source>,
    /// True when `ipv4` is set (it is confirmed for the current boot).
    pub confirmed: bool,
    /// The best unconfirmed hint, when there is no confirmed address.
    pub candidate: Option<Candidate>,
    /// The VM's MAC (registry `mac_address`, QEMU `mac=`, or the console), lower case, zero-padded.
    pub mac: Option<MacAddr>,
    /// The user for `ssh`: registry `ssh_user`, else cloud-init's user from the console, else the config's `ssh_user`.
    pub ssh_user: Option<String>,
    /// The SSH port: registry `ssh_port`, else 22.
    pub ssh_port: u16,
    /// When the status last changed (RFC 3339 UTC with milliseconds). For a VM's
    /// first observation (and so always in a one-shot `vmbar status`) this is when
    /// this vmbar process first saw the VM: a long-running `vmbar watch` or the
    /// tray app knows the real moment of every later change.
    #[serde(with = "rfc3339_millis")]
    pub since: DateTime<Utc>,
    /// Why the VM has this status, or what could not be read; `None` when there is nothing to say.
    /// Holds the text of every note too (`"; "`-separated), for readers of the one string.
    pub detail: Option<String>,
    /// The current boot, when a live QEMU process was found.
    pub boot: Option<BootId>,
    /// cloud-init's progress in the current boot.
    pub cloud_init: CloudInitStage,
    /// Machine-readable remarks about this VM (`[{"code": "mac_conflict", "detail": "..."}]`),
    /// empty when there is none; each one's text is in `detail` too.
    #[serde(default)]
    pub notes: Vec<Note>,
}

/// A machine-readable remark about one VM: a stable `code` and a human-readable `detail`.
///
/// Codes: `mac_conflict` (the registry's `mac_address` disagrees with the running QEMU's
/// `mac=`, or two running VMs have one MAC); `invalid_ssh_user` (an `ssh_user` from the
/// registry, the console or the config is not a portable user name, see
/// [`crate::ssh::valid_user`]: it was dropped and the next source used; the value is quoted in
/// `detail` with every character outside printable ASCII as `\u{..}`); `local_network_denied`
/// (this host refuses vmbar's connections to an on-link address of the VM: on macOS 15+ the
/// Local Network privacy setting, see [`crate::status::local_network_denied`]; `detail` names
/// the setting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// A stable lower-case code.
    pub code: String,
    /// What it means for this VM, for people.
    pub detail: String,
}

/// A change of status or of confirmed IPv4 of one VM, as printed by
/// `vmbar watch --json` (one JSON line each).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusEvent {
    /// The VM's name.
    pub name: String,
    /// The previous status; `None` for the first line about a VM.
    pub from: Option<Status>,
    /// The new status.
    pub to: Status,
    /// The confirmed IPv4 after the change, else `None`.
    pub ipv4: Option<Ipv4Addr>,
    /// When the change was seen (RFC 3339 UTC with milliseconds in JSON).
    #[serde(with = "rfc3339_millis")]
    pub at: DateTime<Utc>,
    /// The boot the VM is in after the change (for once-per-boot notifications).
    pub boot: Option<BootId>,
}

/// serde helper: RFC 3339 UTC with exactly three fractional digits.
pub mod rfc3339_millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `2026-11-30T04:01:22.123Z`.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    /// Reads any RFC 3339 time.
    ///
    /// # Errors
    /// A serde error when the text is not RFC 3339.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&Utc)).map_err(serde::de::Error::custom)
    }
}
