//! The VM's serial console (`console.log`): cloud-init's ci-info Net device
//! info table, boot boundaries, cloud-init stages and the ssh user.
//!
//! The parser is sans-IO and incremental: [`ConsoleParser::feed`] takes bytes
//! as QEMU appended them (`-serial file:...`), so a refresh costs only the new
//! bytes; [`ConsoleTail`] is the file adapter that reads those bytes.
//!
//! # Formats understood
//! - cloud-init **0.6.x** flat lines `ci-info: eth0  : 1 192.168.122.113 255.255.255.0 52:54:00:4e:a1:38`
//!   (`%-6s: %i %-15s %-15s %s`; before 0.6.3 an empty field was blank, so a
//!   line with two values after the up flag has no address).
//! - cloud-init **0.7.0 – 0.7.6** PrettyTable `Device | Up | Address | Mask | Hw-Address`.
//! - cloud-init **0.7.7 – today** `Device | Up | Address | Mask | Scope | Hw-Address`
//!   (one row per address since 18.3; `cloudinit/netinfo.py` `netdev_pformat`).
//! - BSD tables (hex masks, `%zone` suffixes), headerless tables cut by
//!   `systemctl status`, rows hard-wrapped at a terminal width.
//! - CirrOS `if-info: dev,up,ip,prefixlen,ipv6` lines (no MAC: it comes from the
//!   EUI-64 link-local address).
//!
//! Any line prefix is accepted (kernel `[ ts]`, `cloud-init[pid]:`, syslog or
//! journal, `<14>` syslog framing, none), as are CRLF, bare CR, ANSI escape
//! sequences and their ESC-stripped remnants (`[0;1;39m`). Only the row whose
//! Hw-Address is the VM's MAC counts, and from it only usable IPv4 addresses
//! ([`crate::addr::is_usable_vm_ipv4`]): never a route table's gateway, never
//! lo, docker0 or virbr0.
//!
//! # Boots
//! A console log can hold several boots (guest reboots inside one QEMU, QEMU
//! restarted on a log it appends to: `-chardev file,append=on`), and a guest can
//! print an earlier boot's log on it (`journalctl -b -1`). Only the last table of
//! the current boot counts. A new boot begins at the first of these lines once
//! the current boot has shown anything (a marker counts at the start of a line's
//! message: after blanks, a `<N>` priority and a kernel `[ts]`, never behind a
//! syslog or journal prefix, which the live firmware and kernel never print):
//!
//! | marker | printed by |
//! |---|---|
//! | `SeaBIOS (version ...)` | SeaBIOS's start-up banner (QEMU's default x86 BIOS; on the serial port with `-nographic`/sercon) |
//! | `BdsDxe: loading Boot0001 ...`, `BdsDxe: starting ...` | OVMF / EDK II `MdeModulePkg/Universal/BdsDxe` (UEFI guests) |
//! | `iPXE (http://ipxe.org) ...`, `iPXE (https://ipxe.org) ...` | the iPXE option ROM of QEMU's NICs, at network boot |
//! | `GRUB loading.`, `Welcome to GRUB!` | GRUB's i386-pc core image and its `normal` module |
//! | `systemd-boot <version>` | systemd-boot's banner (UEFI guests) |
//! | `reboot: Restarting system`, `reboot: Power down`, `reboot: System halted` | the guest kernel's `kernel/reboot.c` (`pr_emerg`, printed even with `quiet`) |
//! | `Linux version ...` | the kernel banner (`linux_banner`, printed by `start_kernel()`) |
//! | a kernel `[ts]` that restarts below 5 s, on a kernel line (not a journal's `[ts] HOST kernel:` or `[ts] HOST IDENT[PID]:`, which `journalctl -o short-monotonic` prints for an earlier boot) | printk timestamps (`CONFIG_PRINTK_TIME`) start again at 0 with each kernel |
//! | cloud-init `running 'init-local'` once cloud-init ran, or a stage earlier than the boot's latest (`running 'init'` after `finished`), not backwards in time | cloud-init's stage banners (`cloudinit/cmd/main.py`): one pass per boot |
//! | a cloud-init stage line whose uptime goes backwards while its wall clock goes forward | cloud-init's stage banner: `at <RFC 2822 time>. Up N seconds` |
//!
//! Time order decides what is current. A line's guest uptime is its kernel
//! `[ts]`, else cloud-init's `Up N seconds` (both count from the guest kernel's
//! start). A line whose uptime goes backwards by more than 2 s against the
//! current boot's is a replay of an earlier boot, unless it is the restart below
//! 5 s above or a cloud-init stage line whose wall clock (`at Thu, 09 Apr 2026
//! 08:37:09 +0000`) is later than this boot's stage lines' (a new boot printed
//! later: a QEMU restarted on an appended log with a `quiet` kernel). An earlier
//! stage whose wall clock goes backwards is a replay too (not a boundary). From a replay line on,
//! tables, stages, users and boundaries are ignored until a line at least as late
//! as the boot's clock (within 0.25 s) or a firmware marker returns. A syslog or journal
//! prefix alone never marks a replay: current consoles carry `<14>Apr  9 08:37:28
//! cloud-init:` framed lines.
//!
//! With [`ConsoleParser::set_uptime_limit`] (the QEMU process's age), a line
//! whose uptime exceeds the limit was printed before that process started: the
//! boot it belongs to is forgotten and nothing counts until the process's own
//! lines (uptime within the limit) or a firmware marker begin a new boot.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::addr::is_usable_vm_ipv4;
use crate::mac::MacAddr;
use crate::model::CloudInitStage;

/// Longest line kept, in bytes; the rest of a longer line is dropped (a 10 MB
/// line of garbage costs its bytes once and no memory beyond this).
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// One row of a Net device info table (or one CirrOS `if-info:` line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetRow {
    /// Device name as printed, without EL7's trailing `:` (`eth0`, `re0.33`, `vnet0:11`).
    pub device: String,
    /// The Up column (`True`/`False`, `1`/`0`, `up`); `None` when unreadable.
    pub up: Option<bool>,
    /// The Address column without `/prefix` or `%zone`; `None` for `.` or blank.
    pub address: Option<IpAddr>,
    /// The Hw-Address column, or for CirrOS the MAC inside the EUI-64 link-local address.
    pub mac: Option<MacAddr>,
}

/// One Net device info table: the rows of one printing of the table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetTable {
    /// Byte offset in the log of the line that started the table.
    pub offset: u64,
    /// The rows in print order.
    pub rows: Vec<NetRow>,
}

impl NetTable {
    /// Usable IPv4 addresses of the rows whose MAC is `mac`, in print order,
    /// deduplicated: never from `lo`, a row whose Up column says `False`, or a
    /// bridge or container device inside the guest ([`is_guest_bridge`]), even
    /// when that row carries the MAC (a bridge can take its port's MAC).
    pub fn ipv4_for(&self, mac: MacAddr) -> Vec<Ipv4Addr> {
        let mut out = Vec::new();
        for row in &self.rows {
            if row.mac != Some(mac) || row.device == "lo" || row.up == Some(false) || is_guest_bridge(&row.device) {
                continue;
            }
            if let Some(IpAddr::V4(ip)) = row.address {
                if is_usable_vm_ipv4(ip) && !out.contains(&ip) {
                    out.push(ip);
                }
            }
        }
        out
    }

    /// The distinct unicast MACs of rows other than loopback and guest bridges, in print order.
    pub fn macs(&self) -> Vec<MacAddr> {
        let mut out = Vec::new();
        for row in &self.rows {
            if let Some(mac) = row.mac {
                if mac.is_unicast() && row.device != "lo" && !is_guest_bridge(&row.device) && !out.contains(&mac) {
                    out.push(mac);
                }
            }
        }
        out
    }
}

/// True for a device name that a bridge, container or nested-VM network inside
/// the guest uses (never the VM's own NIC): libvirt `virbr*` (and `virbr0-nic`),
/// `vnet*` and `tap*` (guests' taps), Docker `docker*` and `br-<id>`, CNI `cni*`,
/// `flannel*`, Calico `cali*`, Cilium `cilium_*`, `veth*` pairs, LXD `lxdbr*`,
/// LXC `lxcbr*`, Podman `podman*`, Multipass `mpqemubr*`, Weave `weave`,
/// kube-router `kube-bridge`. A plain `br0`/`bridge0` is kept: a guest may bridge
/// its own NIC and then holds its address there.
pub fn is_guest_bridge(device: &str) -> bool {
    const PREFIXES: [&str; 15] = ["virbr", "vnet", "tap", "docker", "br-", "cni", "flannel", "cali", "cilium_", "veth", "lxdbr", "lxcbr", "podman", "mpqemubr", "kube-bridge"];
    device == "weave" || PREFIXES.iter().any(|p| device.starts_with(p))
}

/// What the console says about one boot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BootView {
    /// Byte offset of the line that began this boot; `None` for the first boot in the log.
    pub start: Option<u64>,
    /// The last Net device info table printed in this boot.
    pub table: Option<NetTable>,
    /// cloud-init's last stage seen in this boot.
    pub cloud_init: CloudInitStage,
    /// Users named by cloud-init's "Authorized keys from ... for user NAME" (and
    /// "no authorized SSH keys fingerprints found for user NAME") lines, in order.
    pub ssh_users: Vec<String>,
}

impl BootView {
    /// The user to ssh in as: the first non-root user cloud-init named, else root if named.
    pub fn ssh_user(&self) -> Option<&str> {
        self.ssh_users.iter().find(|u| *u != "root").or_else(|| self.ssh_users.first()).map(String::as_str)
    }

    /// True once this boot showed any cloud-init stage line.
    pub fn cloud_init_started(&self) -> bool {
        self.cloud_init != CloudInitStage::NotSeen
    }
}

static STAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Cloud-init v\. \S+ (?:running '([a-z:-]+)'|(finished) at)|cloud-init (start-local|start|boot) (?:running|(finished))").expect("constant pattern")
});
static SSH_USER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:Authorized keys from \S+ for user|fingerprints found for user) ([a-z_][a-z0-9_.-]{0,31})").expect("constant pattern")
});
static UP_SECS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bUp (\d{1,9}(?:\.\d{1,9})?) seconds").expect("constant pattern"));
/// The wall-clock time of a cloud-init stage line: `at Thu, 09 Apr 2026 08:37:09 +0000`
/// (`util.time_rfc2822()`).
static STAGE_WALL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r" at ([A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4})").expect("constant pattern"));
static FLAT_06: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*([A-Za-z0-9_.@-]{1,32})\s*:\s+([01])\s*(.*)$").expect("constant pattern")
});
static BARE_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    // nothing, or: `<14>` syslog framing, a kernel `[ ts]`, a syslog/journal
    // `Mon DD HH:MM:SS host`, a `tag[pid]:`
    Regex::new(r"^\s*(?:<\d{1,3}>)?\s*(?:\[\s*\d+\.\d+\]\s*)?(?:[A-Z][a-z]{2}\s+\d{1,2}\s+[\d:]{8}\s+\S+\s+)?(?:[\w.@/-]+(?:\[\d+\])?:\s*)?$").expect("constant pattern")
});
static ANSI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?|\[[0-9;]*[mK]").expect("constant pattern")
});

/// Slack for uptimes against the QEMU process's age: its start time is read in whole seconds.
const UPTIME_SLACK: f64 = 2.0;
/// How far a line's uptime may go backwards (lines of one boot interleave; cloud-init's
/// `Up` comes from `/proc/uptime`, the kernel's `[ts]` from its own clock) before it is a replay.
const REPLAY_SLACK: f64 = 2.0;
/// Inside a replay, how far behind the boot's clock a line may be and still be the current boot's.
const RETURN_SLACK: f64 = 0.25;

/// Whether the lines being parsed belong to the current boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Mode {
    /// They do.
    #[default]
    Current,
    /// An earlier boot's log printed again (its uptime went backwards): ignored.
    Replay,
    /// Printed before the QEMU process started (uptime above its age): ignored.
    Stale,
}

/// What a line announces about boots (see the module docs' table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    /// Firmware, boot loader or the kernel's `reboot:` line: a reset.
    Firmware,
    /// The kernel's `Linux version` banner.
    Banner,
    /// A new cloud-init `init-local` stage.
    Stage,
}

/// The boot marker at the start of a line's message (after blanks, a `<N>` and a kernel `[ts]`).
fn marker(line: &str) -> Marker {
    let mut m = line.trim_start();
    if let Some(rest) = m.strip_prefix('<') {
        if let Some(i) = rest.find('>').filter(|&i| i <= 3 && rest[..i].bytes().all(|b| b.is_ascii_digit())) {
            m = rest[i + 1..].trim_start();
        }
    }
    if kernel_ts(m.as_bytes()).is_some() {
        m = m.find(']').map_or(m, |i| m[i + 1..].trim_start());
    }
    const FIRMWARE: [&str; 10] = [
        "SeaBIOS (version ",
        "BdsDxe: ",
        "iPXE (http://ipxe.org)",
        "iPXE (https://ipxe.org)",
        "GRUB loading",
        "Welcome to GRUB!",
        "reboot: Restarting system",
        "reboot: Power down",
        "reboot: System halted",
        "systemd-boot ",
    ];
    if FIRMWARE.iter().any(|f| m.starts_with(f)) {
        // `systemd-boot` must be followed by its version
        if m.starts_with("systemd-boot ") && !m["systemd-boot ".len()..].starts_with(|c: char| c.is_ascii_digit()) {
            return Marker::None;
        }
        return Marker::Firmware;
    }
    if m.starts_with("Linux version ") {
        return Marker::Banner;
    }
    Marker::None
}

/// Incremental console parser. Feed it bytes in order; read [`Self::current`].
#[derive(Debug, Clone, Default)]
pub struct ConsoleParser {
    /// Offset of the next byte to be fed.
    pos: u64,
    /// Bytes of the line being assembled (capped at [`MAX_LINE_BYTES`]).
    partial: Vec<u8>,
    partial_start: u64,
    /// Offset of the line being parsed (the start of a new boot, if it is one).
    partial_start_of_line: u64,
    partial_overflow: bool,
    /// A table row cut by a hard wrap, waiting for its continuation.
    wrapped: Option<(u64, String, u8)>,
    in_table: bool,
    /// The current boot's guest uptime: the largest accepted line uptime, seconds.
    clock: Option<f64>,
    /// Whether the current boot's clock was set by a line within the uptime limit.
    boot_has_content: bool,
    mode: Mode,
    /// The latest wall-clock time (Unix seconds) of the current boot's cloud-init stage lines.
    wall: Option<i64>,
    /// The QEMU process's age in seconds, when known ([`Self::set_uptime_limit`]).
    uptime_limit: Option<f64>,
    boots: u32,
    current: BootView,
    /// Every Net device info table seen, for `vmbar inspect` (capped at 64).
    all_tables: Vec<NetTable>,
    /// Every MAC seen in any table (for inspect).
    lines: u64,
}

impl ConsoleParser {
    /// A parser positioned at byte 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser whose first fed byte is at `offset` of the file (tail reads).
    pub fn starting_at(offset: u64) -> Self {
        ConsoleParser { pos: offset, partial_start: offset, ..Self::default() }
    }

    /// Sets the QEMU process's age (seconds since it started), or `None` when
    /// unknown: later lines whose guest uptime exceeds it (plus 2 s for the
    /// whole-second start time) belong to an earlier process and never count.
    /// The age only grows while one process runs; call [`Self::fence`] for a new one.
    pub fn set_uptime_limit(&mut self, age_secs: Option<f64>) {
        self.uptime_limit = age_secs.filter(|a| a.is_finite() && *a >= 0.0);
    }

    /// Declares that every byte fed so far predates the current QEMU process: a
    /// new boot (with nothing known) begins at [`Self::position`], unless the
    /// current boot is already empty.
    pub fn fence(&mut self) {
        if self.boot_has_content || self.mode != Mode::Current || self.current != BootView::default() {
            let at = self.partial_start;
            self.new_boot(at);
        }
        self.wrapped = None;
    }

    /// Offset of the next byte expected.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The current (last) boot as parsed so far.
    pub fn current(&self) -> &BootView {
        &self.current
    }

    /// Number of boot boundaries seen (0 when the log shows one boot).
    pub fn boundaries(&self) -> u32 {
        self.boots
    }

    /// All tables seen so far (at most 64, the latest kept), across boots.
    pub fn all_tables(&self) -> &[NetTable] {
        &self.all_tables
    }

    /// Lines parsed so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Feeds the next bytes of the log. A line is parsed once its `\n` or `\r`
    /// arrives; call [`Self::finish`] at end of input for offline parsing.
    pub fn feed(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            match memchr::memchr2(b'\n', b'\r', rest) {
                Some(i) => {
                    self.push_partial(&rest[..i]);
                    self.pos += i as u64 + 1;
                    self.end_line();
                    rest = &rest[i + 1..];
                }
                None => {
                    self.push_partial(rest);
                    self.pos += rest.len() as u64;
                    rest = &[];
                }
            }
        }
    }

    /// Parses a last line that has no line ending (end of an offline file).
    pub fn finish(&mut self) {
        if !self.partial.is_empty() {
            self.end_line();
        }
        if let Some((off, row, _)) = self.wrapped.take() {
            self.table_body(off, &row);
        }
    }

    fn push_partial(&mut self, bytes: &[u8]) {
        let room = MAX_LINE_BYTES.saturating_sub(self.partial.len());
        if bytes.len() > room {
            self.partial_overflow = true;
        }
        self.partial.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn end_line(&mut self) {
        let start = self.partial_start;
        self.partial_start_of_line = start;
        self.partial_start = self.pos;
        let raw = std::mem::take(&mut self.partial);
        let overflow = std::mem::replace(&mut self.partial_overflow, false);
        if raw.is_empty() {
            // An empty line (CRLF gives one) ends nothing: tables may be followed by CR noise.
            return;
        }
        self.lines += 1;
        if overflow {
            // A line cut at MAX_LINE_BYTES is never trusted as a table row.
            self.in_table = false;
            self.wrapped = None;
            return;
        }
        if self.wrapped.is_none() && is_plain_line(&raw) {
            // Fast path for the great majority of console lines (kernel and systemd
            // messages): nothing in them but a possible kernel timestamp matters.
            let ts = kernel_ts(&raw);
            let journal = ts.is_some_and(|t| t < 5.0) && journal_after_ts(&raw);
            self.clock_line(ts, None, Marker::None, None, journal);
            self.in_table = false;
            return;
        }
        let text = String::from_utf8_lossy(&raw);
        let clean = clean_line(&text);
        self.line(start, &clean);
    }

    /// Boot-boundary and time-order bookkeeping shared by both paths, for the
    /// line that starts at `partial_start_of_line`: `ts` is its kernel timestamp,
    /// `up` cloud-init's `Up N seconds`, `marker` what it announces. Returns true
    /// when the line's facts (table rows, stages, users) belong to the current boot.
    /// `journal` says the line is a journal line behind its `[ts]` ([`journal_after_ts`]).
    fn clock_line(&mut self, ts: Option<f64>, up: Option<f64>, marker: Marker, wall: Option<i64>, journal: bool) -> bool {
        let at = self.partial_start_of_line;
        if marker == Marker::Firmware {
            // Firmware runs only after a reset: always a new boot, whatever came before.
            if self.boot_has_content || self.mode != Mode::Current {
                self.new_boot(at);
            }
            return true;
        }
        let Some(t) = ts.or(up) else {
            if marker == Marker::Banner && (self.boot_has_content || self.mode == Mode::Stale) {
                self.new_boot(at);
                self.boot_has_content = true;
                return true;
            }
            if marker == Marker::Banner {
                self.boot_has_content = true;
            }
            return self.mode == Mode::Current;
        };
        let limit = self.uptime_limit.map(|l| l + UPTIME_SLACK);
        if limit.is_some_and(|l| t > l) {
            // Printed by a guest older than the QEMU process: an earlier process's boot
            // (forgotten: nothing of it counts), or a replay inside this process's boot.
            if self.mode != Mode::Stale && !(self.mode == Mode::Current && self.boot_has_content) {
                self.new_boot(at);
                self.mode = Mode::Stale;
            } else if self.mode == Mode::Current {
                self.mode = Mode::Replay;
            }
            return false;
        }
        if self.mode == Mode::Stale {
            // the process's own first line
            self.new_boot(at);
        }
        // Inside a replay, only a line at least as late as the boot's clock returns to it.
        let slack = if self.mode == Mode::Replay { RETURN_SLACK } else { REPLAY_SLACK };
        let backwards = self.clock.is_some_and(|c| t + slack < c);
        // Uptime backwards while the wall clock of cloud-init's stage lines goes forward: a
        // new boot printed later (a QEMU restart on an appended log, a `quiet` kernel), not a replay.
        let later = backwards && wall.is_some_and(|w| self.wall.is_some_and(|b| w > b));
        // Kernel timestamps restarting are the kernel's own lines, never a journal's
        // (`journalctl -o short-monotonic` prints an earlier boot from `[    0.000000]`).
        let restarted = later || (ts.is_some() && !journal && self.clock.is_some_and(|c| t + 1.0 < c) && t < 5.0);
        // A boundary needs time on its side: an earlier stage whose wall clock went back is an
        // earlier boot's line printed again. (Ordinary lines are not judged by the wall clock:
        // inside one boot it may step back, e.g. NTP correcting an RTC kept in local time.)
        let wall_back = wall.is_some_and(|w| self.wall.is_some_and(|b| w + 1 < b));
        let replay = backwards || (marker == Marker::Stage && wall_back);
        if restarted || (marker != Marker::None && !replay && self.boot_has_content) {
            self.new_boot(at);
        } else if replay {
            // a replay of an earlier boot's log
            self.mode = Mode::Replay;
            return false;
        }
        self.mode = Mode::Current;
        self.clock = Some(self.clock.map_or(t, |c| c.max(t)));
        if let Some(w) = wall {
            self.wall = Some(self.wall.map_or(w, |b| b.max(w)));
        }
        self.boot_has_content = true;
        true
    }

    fn line(&mut self, offset: u64, line: &str) {
        // 1. A row cut by a terminal's hard wrap continues on this line.
        if let Some((woff, mut row, n)) = self.wrapped.take() {
            let t = line.trim_start();
            // A prefixed row continues on any line without a prefix of its own; a bare
            // table's row only on a line that is not itself a row or border.
            let prefixed = n & 0x80 != 0;
            let continues = !t.is_empty()
                && !line.contains("ci-info:")
                && kernel_ts(line.as_bytes()).is_none()
                && (prefixed || (!t.starts_with('|') && !t.starts_with('+')));
            if continues {
                row.push_str(line.trim_end());
                if row_complete(&row) || n & 0x7f >= 3 {
                    self.table_body(woff, &row);
                } else {
                    self.wrapped = Some((woff, row, n + 1));
                }
                return;
            }
            self.table_body(woff, &row);
        }

        // 2. Boot boundaries and time order.
        let ts = kernel_ts(line.as_bytes());
        let mut marker = marker(line);
        let stage = STAGE.captures(line).and_then(|c| {
            if let Some(s) = c.get(1) {
                return stage_from_name(s.as_str());
            }
            if c.get(2).is_some() || c.get(4).is_some() {
                return Some(CloudInitStage::Finished);
            }
            match c.get(3).map(|m| m.as_str()) {
                Some("start-local") => Some(CloudInitStage::InitLocal),
                Some("start") => Some(CloudInitStage::Init),
                Some("boot") => Some(CloudInitStage::Finished),
                _ => None,
            }
        });
        // cloud-init's stages only move forward inside one boot: an earlier stage (or a second
        // `init-local`) begins a new one, unless time order makes it a replay
        let earlier = |s: CloudInitStage| stage_rank(s) < stage_rank(self.current.cloud_init) || (s == CloudInitStage::InitLocal && self.current.cloud_init_started());
        if marker == Marker::None && stage.is_some_and(earlier) {
            marker = Marker::Stage;
        }
        let up = stage.and_then(|_| UP_SECS.captures(line)).and_then(|c| c.get(1)?.as_str().parse::<f64>().ok()).filter(|u| u.is_finite());
        self.partial_start_of_line = offset;
        let wall = stage.and_then(|_| STAGE_WALL.captures(line)).and_then(|c| chrono::DateTime::parse_from_rfc2822(c.get(1)?.as_str()).ok()).map(|d| d.timestamp());
        let journal = ts.is_some_and(|t| t < 5.0) && journal_after_ts(line.as_bytes());
        if !self.clock_line(ts, up, marker, wall, journal) {
            // not the current boot's: an earlier process's, or a replay
            self.in_table = false;
            self.wrapped = None;
            return;
        }
        if let Some(s) = stage {
            self.boot_has_content = true;
            // stages only move forward inside a boot
            if stage_rank(s) >= stage_rank(self.current.cloud_init) {
                self.current.cloud_init = s;
            }
        }
        if let Some(c) = SSH_USER.captures(line) {
            if let Some(u) = c.get(1) {
                let u = u.as_str().trim_end_matches('.').to_owned();
                if !self.current.ssh_users.contains(&u) && self.current.ssh_users.len() < 8 {
                    self.current.ssh_users.push(u);
                }
            }
        }

        // 3. Tables.
        if let Some(i) = line.find("ci-info:") {
            let body = &line[i + "ci-info:".len()..];
            self.table_line(offset, body, true);
        } else if let Some(i) = line.find("if-info:") {
            self.cirros_line(offset, &line[i + "if-info:".len()..]);
        } else if line.contains("=== network info ===") {
            self.start_table(offset);
        } else {
            // A bare table (no `ci-info:`), possibly behind a log prefix.
            let cut = line.find(['|', '+']).filter(|&i| BARE_PREFIX.is_match(&line[..i]));
            match cut {
                Some(i) => self.table_line(offset, &line[i..], false),
                None => self.in_table = false,
            }
        }
    }

    fn new_boot(&mut self, offset: u64) {
        self.boots += 1;
        self.current = BootView { start: Some(offset), ..BootView::default() };
        self.boot_has_content = false;
        self.in_table = false;
        self.clock = None;
        self.wall = None;
        self.mode = Mode::Current;
    }

    fn start_table(&mut self, offset: u64) {
        self.current.table = Some(NetTable { offset, rows: Vec::new() });
        self.in_table = true;
        self.boot_has_content = true;
    }

    fn table_line(&mut self, offset: u64, body: &str, prefixed: bool) {
        let t = body.trim();
        if t.contains("Net device info") {
            self.start_table(offset);
            return;
        }
        if t.starts_with('+') && (t.contains("info") || t.contains("!!!")) {
            // another table's title (Route IPv4 info, Authorized keys ...)
            self.in_table = false;
            return;
        }
        if t.starts_with("!!!") {
            self.in_table = false;
            return;
        }
        if t.starts_with('+') {
            return; // a border keeps the current state
        }
        if t.starts_with('|') {
            if !row_complete(t) && (prefixed || !t.ends_with('|')) {
                // cut by a hard wrap: the rest follows on the next line(s)
                self.wrapped = Some((offset, t.to_owned(), if prefixed { 0x80 } else { 0 }));
                return;
            }
            self.table_body(offset, t);
            return;
        }
        if prefixed {
            // cloud-init 0.6 flat lines: `eth0  : 1 192.168.122.113 255.255.255.0 52:54:00:4e:a1:38`
            if let Some(row) = parse_flat_06(t) {
                if !self.in_table {
                    self.start_table(offset);
                }
                self.push_row(row);
                return;
            }
        }
        self.in_table = false;
    }

    /// A complete `| a | b | ... |` body.
    fn table_body(&mut self, offset: u64, body: &str) {
        let inner = body.trim().trim_start_matches('|').trim_end_matches('|');
        let cells: Vec<&str> = inner.split('|').map(str::trim).collect();
        if cells.first().map(|c| c.eq_ignore_ascii_case("Device")).unwrap_or(false) {
            if !self.in_table {
                self.start_table(offset);
            }
            return;
        }
        match parse_device_row(&cells) {
            Some(row) => {
                if !self.in_table || self.current.table.is_none() {
                    // headerless table (systemctl status cut the top off)
                    self.start_table(offset);
                }
                self.push_row(row);
            }
            None => {
                // a route or other table's row: not ours, ends the device table
                if cells.len() < 5 || !cells.first().map(|c| c.chars().all(|ch| ch.is_ascii_digit())).unwrap_or(false) {
                    // unknown shapes are skipped without ending the table
                    return;
                }
                self.in_table = false;
            }
        }
    }

    fn cirros_line(&mut self, offset: u64, body: &str) {
        let f: Vec<&str> = body.trim().split(',').map(str::trim).collect();
        if f.len() < 3 || f[0].eq_ignore_ascii_case("dev") {
            if !self.in_table {
                self.start_table(offset);
            }
            return;
        }
        let address = f.get(2).and_then(|a| parse_addr_cell(a));
        let mac = f.get(4).and_then(|v6| parse_addr_cell(v6)).and_then(|a| match a {
            IpAddr::V6(v6) => MacAddr::from_eui64(&v6),
            IpAddr::V4(_) => None,
        });
        let row = NetRow { device: f[0].to_owned(), up: parse_up(f[1]), address, mac };
        if !self.in_table {
            self.start_table(offset);
        }
        self.push_row(row);
    }

    fn push_row(&mut self, row: NetRow) {
        self.in_table = true;
        if let Some(table) = self.current.table.as_mut() {
            if table.rows.len() < 256 {
                table.rows.push(row);
            }
            // keep a copy for inspect: replace the entry of the same table
            match self.all_tables.last_mut() {
                Some(last) if last.offset == table.offset => *last = table.clone(),
                _ => {
                    if self.all_tables.len() == 64 {
                        self.all_tables.remove(0);
                    }
                    self.all_tables.push(table.clone());
                }
            }
        }
    }
}

/// True when a raw line cannot matter beyond its kernel timestamp: no table
/// character, no marker of a table, boot banner, cloud-init or ssh-user line, and
/// no escape or other control byte that cleaning would have to remove first.
fn is_plain_line(raw: &[u8]) -> bool {
    if raw.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) || memchr::memchr2(b'|', b'+', raw).is_some() {
        return false;
    }
    !PLAIN_NEEDLES.iter().any(|n| n.find(raw).is_some())
}

/// What makes a line worth the slow path: `-info` (ci-info/if-info), the kernel banner,
/// cloud-init's stages, the CirrOS block, the ssh-user lines, and the boot markers of the
/// module docs. Searchers built once (building one per line cost more than the search).
static PLAIN_NEEDLES: LazyLock<Vec<memchr::memmem::Finder<'static>>> = LazyLock::new(|| {
    ["-info", "Linux version", "loud-init", "=== network", "for user", "SeaBIOS", "BdsDxe", "iPXE", "GRUB", "systemd-boot", "reboot: "].iter().map(|n| memchr::memmem::Finder::new(n.as_bytes())).collect()
});

/// True when the text behind a line's `[ts]` is a journal line, `HOST kernel: ...` or
/// `HOST IDENT[PID]: ...` (`journalctl -o short-monotonic`): the live console shows the
/// kernel's own messages there (`Linux version`, `pci 0000:00:01.0: ...`) or a service's
/// kmsg line with no host (`cloud-init[658]: ...`), never a host name before them.
fn journal_after_ts(line: &[u8]) -> bool {
    let Some(close) = memchr::memchr(b']', line) else { return false };
    let rest = &line[close + 1..];
    let mut words = rest.split(|b| *b == b' ' || *b == b'\t').filter(|w| !w.is_empty());
    let (Some(host), Some(ident)) = (words.next(), words.next()) else { return false };
    let Some(ident) = ident.strip_suffix(b":") else { return false };
    if host.ends_with(b":") || host.contains(&b'[') {
        return false;
    }
    if ident == b"kernel" {
        return true;
    }
    // NAME[PID]
    let Some(open) = memchr::memchr(b'[', ident) else { return false };
    let (name, pid) = (&ident[..open], &ident[open + 1..]);
    !name.is_empty()
        && name.iter().all(|b| b.is_ascii_alphanumeric() || b"_.@/-".contains(b))
        && pid.len() >= 2
        && pid.ends_with(b"]")
        && pid[..pid.len() - 1].iter().all(u8::is_ascii_digit)
}

/// The kernel timestamp at the start of a console line: `[   26.355300]`,
/// optionally after blanks and a `<14>` syslog priority (`printk` format), in seconds.
fn kernel_ts(line: &[u8]) -> Option<f64> {
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < line.len() && line[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    let digits = |i: &mut usize, max: usize| -> Option<(u64, usize)> {
        let start = *i;
        let mut v: u64 = 0;
        while *i < line.len() && line[*i].is_ascii_digit() && *i - start < max {
            v = v * 10 + u64::from(line[*i] - b'0');
            *i += 1;
        }
        if *i == start || (*i < line.len() && line[*i].is_ascii_digit()) {
            None
        } else {
            Some((v, *i - start))
        }
    };
    skip_ws(&mut i);
    if line.get(i) == Some(&b'<') {
        i += 1;
        digits(&mut i, 3)?;
        if line.get(i) != Some(&b'>') {
            return None;
        }
        i += 1;
    }
    skip_ws(&mut i);
    if line.get(i) != Some(&b'[') {
        return None;
    }
    i += 1;
    skip_ws(&mut i);
    let (secs, _) = digits(&mut i, 7)?;
    if line.get(i) != Some(&b'.') {
        return None;
    }
    i += 1;
    let (frac, n) = digits(&mut i, 9)?;
    if line.get(i) != Some(&b']') {
        return None;
    }
    Some(secs as f64 + frac as f64 / 10f64.powi(n as i32))
}

/// A `| ... |` row with at least five cells (every Net device info layout has 5
/// or 6), unless its fifth and last cell is a Scope (`global`, `link`, `host`,
/// `site`, a BSD hex scope `0x2`): a 6-column row folded right after its Scope
/// cell (a hard wrap at 80 columns does that) looks like a 5-column row and waits
/// for its continuation (the Hw-Address).
fn row_complete(row: &str) -> bool {
    let t = row.trim();
    if !t.ends_with('|') {
        return false;
    }
    let n = t.matches('|').count();
    let last = t.trim_end_matches('|').rsplit('|').next().unwrap_or("").trim();
    let scope = matches!(last, "global" | "link" | "host" | "site") || (last.starts_with("0x") && last.len() <= 6);
    n >= 7 || (n == 6 && !scope)
}

fn stage_from_name(name: &str) -> Option<CloudInitStage> {
    Some(match name {
        "init-local" => CloudInitStage::InitLocal,
        "init" => CloudInitStage::Init,
        "modules:config" => CloudInitStage::ModulesConfig,
        "modules:final" => CloudInitStage::ModulesFinal,
        _ => return None,
    })
}

fn stage_rank(s: CloudInitStage) -> u8 {
    match s {
        CloudInitStage::NotSeen => 0,
        CloudInitStage::InitLocal => 1,
        CloudInitStage::Init => 2,
        CloudInitStage::ModulesConfig => 3,
        CloudInitStage::ModulesFinal => 4,
        CloudInitStage::Finished => 5,
    }
}

/// Removes ANSI escape sequences (and their ESC-stripped remnants) and other
/// C0 control characters, so that no console byte reaches a terminal or the UI raw.
pub fn clean_line(line: &str) -> String {
    let no_ansi = if line.contains('\x1b') || line.contains('[') { ANSI.replace_all(line, "") } else { line.into() };
    no_ansi.chars().filter(|c| !c.is_control() || *c == '\t').collect()
}

fn parse_up(cell: &str) -> Option<bool> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "up" | "yes" => Some(true),
        "false" | "0" | "down" | "no" => Some(false),
        _ => None,
    }
}

/// Parses an Address cell: `10.0.2.15`, `fe80::1%lo0/64`, `::1/128`; `.` or blank is `None`.
fn parse_addr_cell(cell: &str) -> Option<IpAddr> {
    let c = cell.trim();
    if c.is_empty() || c == "." {
        return None;
    }
    let c = c.split('/').next().unwrap_or(c);
    let c = c.split('%').next().unwrap_or(c);
    c.parse().ok()
}

fn parse_device_row(cells: &[&str]) -> Option<NetRow> {
    if cells.len() != 5 && cells.len() != 6 {
        return None;
    }
    let up = parse_up(cells[1])?;
    let hw = cells[cells.len() - 1];
    let mac = if hw == "." || hw.is_empty() {
        None
    } else {
        Some(hw.parse::<MacAddr>().ok()?)
    };
    let device = cells[0].strip_suffix(':').unwrap_or(cells[0]).to_owned();
    if device.is_empty() {
        return None;
    }
    Some(NetRow { device, up: Some(up), address: parse_addr_cell(cells[2]), mac })
}

fn parse_flat_06(body: &str) -> Option<NetRow> {
    if body.starts_with("route") {
        return None;
    }
    let c = FLAT_06.captures(body)?;
    let device = c.get(1)?.as_str().to_owned();
    let up = parse_up(c.get(2)?.as_str());
    let tokens: Vec<&str> = c.get(3)?.as_str().split_whitespace().collect();
    // `addr mask hw`; with only two fields the (blank) address is missing and the
    // first dotted quad is the mask.
    let (address, hw) = match tokens.as_slice() {
        [addr, _mask, hw] => (parse_addr_cell(addr), *hw),
        [_mask, hw] => (None, *hw),
        _ => return None,
    };
    let mac = if hw == "." { None } else { hw.parse::<MacAddr>().ok() };
    Some(NetRow { device, up, address, mac })
}

/// Parses a whole captured log offline (for `vmbar inspect console` and tests).
pub fn parse_all(bytes: &[u8]) -> ConsoleParser {
    let mut p = ConsoleParser::new();
    p.feed(bytes);
    p.finish();
    p
}

/// Why the console could not be read (the VM's row gets this as its detail).
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// `console.log` exists but is not a regular file (a FIFO or device would block a read).
    #[error("console.log is not a regular file")]
    NotRegular,
    /// An I/O error while opening or reading.
    #[error("cannot read console.log: {0}")]
    Io(#[from] std::io::Error),
}

/// The file adapter: reads a growing `console.log` by its tail and feeds only
/// new bytes to a [`ConsoleParser`].
///
/// The first read covers the last 256 KiB and reaches back (x4 each time, at
/// most `tail_bytes`) while that tail does not show the current boot's start
/// (a table with its cloud-init stage is not enough: a replayed earlier boot
/// can end the file): a 1 GiB log costs at most `tail_bytes`, 256 KiB when the
/// boot started near the end. Later reads cost only the appended bytes. A file
/// that shrank (truncated: QEMU opens `-serial file:` with `O_TRUNC` on start),
/// was replaced (another inode) or was rewritten in place (same inode, truncated
/// and refilled past the old length between two reads: its first bytes or the
/// bytes just before the read offset changed, [`FINGERPRINT_BYTES`] each) is read
/// afresh. When more than `tail_bytes` were appended between two reads, the
/// reader jumps to the new tail.
///
/// [`Self::set_process`] ties the reader to the QEMU process: bytes read before a
/// new process appeared belong to an earlier one (a log QEMU appends to), and lines
/// whose guest uptime exceeds the process's age never count
/// ([`ConsoleParser::set_uptime_limit`]).
#[derive(Debug)]
pub struct ConsoleTail {
    tail_bytes: u64,
    identity: Option<(u64, u64)>,
    parser: ConsoleParser,
    /// Modification time of the file at the last read (Unix seconds).
    pub mtime: Option<i64>,
    /// The file's first bytes and the bytes just before the parser's position, as last read.
    head: Vec<u8>,
    behind: Vec<u8>,
    /// Length and modification time (ns) at the last read: unchanged means nothing to check.
    seen: Option<(u64, Option<i128>)>,
    /// The QEMU process (pid, start time in Unix seconds) the bytes are read for.
    process: Option<(u32, u64)>,
    /// How many times the file was read afresh after its first read.
    rereads: u64,
    /// When the file was last read (Unix seconds).
    last_read: Option<f64>,
}

/// Bytes kept of the file's head and of the bytes before the read offset, to notice a rewrite.
pub const FINGERPRINT_BYTES: usize = 1024;

impl ConsoleTail {
    /// A reader that starts `tail_bytes` (bytes) before the end of the file.
    pub fn new(tail_bytes: u64) -> Self {
        ConsoleTail { tail_bytes: tail_bytes.max(4096), identity: None, parser: ConsoleParser::new(), mtime: None, head: Vec::new(), behind: Vec::new(), seen: None, process: None, rereads: 0, last_read: None }
    }

    /// The parser's current state.
    pub fn parser(&self) -> &ConsoleParser {
        &self.parser
    }

    /// How many times the file was read afresh after the first read (it was
    /// truncated, replaced or rewritten in place): whatever was confirmed from the
    /// earlier content belongs to an earlier boot.
    pub fn rereads(&self) -> u64 {
        self.rereads
    }

    /// Ties the following reads to the QEMU process `(pid, start time in Unix
    /// seconds)` (`None`: no live process, which changes nothing). When another
    /// process than the last one appears (also the first one after reads made while
    /// the VM was stopped) and it started after the last read (or in the same
    /// whole second: the start time has no finer grain), everything read so far
    /// predates it ([`ConsoleParser::fence`]). The same process seen again after a
    /// moment without one (a liveness read that failed) fences nothing.
    /// Call before [`Self::update`].
    pub fn set_process(&mut self, process: Option<(u32, u64)>) {
        if let Some(p) = process {
            // The start time is whole seconds (floored): a process started in the second of
            // the last read may have started after it, and is taken to have.
            let read_before = self.last_read.is_some_and(|t| t < p.1 as f64 + 1.0);
            if self.process != Some(p) && self.identity.is_some() && read_before {
                self.parser.fence();
            }
            self.process = Some(p);
        }
    }

    /// The QEMU process's age in seconds (the parser's uptime limit), if known.
    fn process_age(&self) -> Option<f64> {
        let (_, started) = self.process?;
        if started == 0 {
            return None;
        }
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
        Some((now - started as f64).max(0.0))
    }

    /// Reads what was appended since the last call.
    ///
    /// Returns `Ok(false)` when the file does not exist (the parser is reset),
    /// `Ok(true)` after a successful read.
    ///
    /// # Errors
    /// [`ConsoleError::NotRegular`] for a FIFO, socket or device (never opened,
    /// so a stalled writer cannot hang the refresh); [`ConsoleError::Io`] when
    /// the file cannot be opened or read.
    pub fn update(&mut self, path: &Path) -> Result<bool, ConsoleError> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.identity = None;
                self.parser = ConsoleParser::new();
                self.mtime = None;
                self.seen = None;
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        };
        if !meta.is_file() {
            return Err(ConsoleError::NotRegular);
        }
        let ident = file_identity(&meta);
        let len = meta.len();
        self.mtime = mtime_secs(&meta);
        let seen = (len, mtime_nanos(&meta));
        let age = self.process_age();
        self.parser.set_uptime_limit(age);
        if self.identity == Some(ident) && self.seen == Some(seen) {
            self.last_read = now_secs();
            return Ok(true); // nothing changed since the last read
        }
        let mut file = File::open(path)?;
        let rewritten = self.identity == Some(ident) && len >= self.parser.position() && !self.fingerprint_matches(&mut file)?;
        if self.identity != Some(ident) || len < self.parser.position() || rewritten {
            // A new (or replaced, truncated or rewritten) file: read a small tail first and
            // reach further back (up to tail_bytes) while it does not show the current boot's
            // start. A table with its cloud-init stage is not enough: a replayed earlier boot
            // (`journalctl -b -1` on the serial console) ends the file with a complete-looking
            // init/table/finished, and only the lines before it tell it is a replay.
            if self.identity.is_some() {
                self.rereads += 1;
            }
            self.identity = Some(ident);
            let mut window = FIRST_WINDOW.min(self.tail_bytes);
            loop {
                self.parser = ConsoleParser::starting_at(len.saturating_sub(window));
                self.parser.set_uptime_limit(age);
                self.read_to(&mut file, len)?;
                let boot = self.parser.current();
                let enough = boot.start.is_some();
                if enough || window >= len || window >= self.tail_bytes {
                    break;
                }
                window = (window * 4).min(self.tail_bytes);
            }
        } else {
            if len - self.parser.position() > self.tail_bytes {
                self.parser = ConsoleParser::starting_at(len - self.tail_bytes);
                self.parser.set_uptime_limit(age);
            }
            self.read_to(&mut file, len)?;
        }
        self.remember_fingerprint(&mut file)?;
        self.seen = Some(seen);
        self.last_read = now_secs();
        Ok(true)
    }

    /// Reads `n` bytes at `offset` (fewer at the end of the file).
    fn read_at(file: &mut File, offset: u64, n: usize) -> Result<Vec<u8>, ConsoleError> {
        let mut buf = Vec::with_capacity(n);
        file.seek(SeekFrom::Start(offset))?;
        file.take(n as u64).read_to_end(&mut buf)?;
        Ok(buf)
    }

    /// True when the head and the bytes before the position are still the ones last read.
    fn fingerprint_matches(&self, file: &mut File) -> Result<bool, ConsoleError> {
        let pos = self.parser.position();
        let head = Self::read_at(file, 0, self.head.len())?;
        let behind = Self::read_at(file, pos.saturating_sub(self.behind.len() as u64), self.behind.len())?;
        Ok(head == self.head && behind == self.behind)
    }

    fn remember_fingerprint(&mut self, file: &mut File) -> Result<(), ConsoleError> {
        let pos = self.parser.position();
        let n = FINGERPRINT_BYTES.min(usize::try_from(pos).unwrap_or(FINGERPRINT_BYTES));
        self.head = Self::read_at(file, 0, n)?;
        self.behind = Self::read_at(file, pos - n as u64, n)?;
        Ok(())
    }

    /// Feeds the bytes from the parser's position up to `len`.
    fn read_to(&mut self, file: &mut File, len: u64) -> Result<(), ConsoleError> {
        let start = self.parser.position();
        if len <= start {
            return Ok(());
        }
        file.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::with_capacity((len - start).min(1 << 20) as usize);
        file.take(len - start).read_to_end(&mut buf)?;
        if start > 0 && self.parser.lines() == 0 && self.parser.partial.is_empty() {
            // a tail read begins mid-line: drop that fragment
            let limit = self.parser.uptime_limit;
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    self.parser = ConsoleParser::starting_at(start + i as u64 + 1);
                    self.parser.set_uptime_limit(limit);
                    self.parser.feed(&buf[i + 1..]);
                }
                None => {
                    self.parser = ConsoleParser::starting_at(start + buf.len() as u64);
                    self.parser.set_uptime_limit(limit);
                }
            }
        } else {
            self.parser.feed(&buf);
        }
        Ok(())
    }
}

/// The first read of a console.log covers its last 256 KiB, then 1, 4, 16 MiB
/// (up to `tail_bytes`) while needed.
const FIRST_WINDOW: u64 = 256 * 1024;

#[cfg(unix)]
fn file_identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_identity(_meta: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

fn now_secs() -> Option<f64> {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs_f64())
}

fn mtime_nanos(meta: &std::fs::Metadata) -> Option<i128> {
    let t = meta.modified().ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos() as i128)
}

pub(crate) fn mtime_secs(meta: &std::fs::Metadata) -> Option<i64> {
    let t = meta.modified().ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_secs()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn mac(s: &str) -> MacAddr {
        s.parse().unwrap_or(MacAddr::ZERO)
    }

    const MODERN: &str = "\
[   26.355300] cloud-init[658]: Cloud-init v. 25.2 running 'init' at Thu. Up 26.20 seconds.
[   26.432650] cloud-init[658]: ci-info: ++++++++++++++++Net device info++++++++++++++++
[   26.433897] cloud-init[658]: ci-info: +--------+------+----------------------------+---------------+--------+-------------------+
[   26.434749] cloud-init[658]: ci-info: | Device |  Up  |          Address           |      Mask     | Scope  |     Hw-Address    |
[   26.435496] cloud-init[658]: ci-info: +--------+------+----------------------------+---------------+--------+-------------------+
[   26.436270] cloud-init[658]: ci-info: |  eth0  | True |         10.0.2.15          | 255.255.255.0 | global | 52:54:00:12:34:56 |
[   26.437047] cloud-init[658]: ci-info: |  eth0  | True | fe80::5054:ff:fe12:3456/64 |       .       |  link  | 52:54:00:12:34:56 |
[   26.438450] cloud-init[658]: ci-info: |   lo   | True |         127.0.0.1          |   255.0.0.0   |  host  |         .         |
[   26.439938] cloud-init[658]: ci-info: +--------+------+----------------------------+---------------+--------+-------------------+
";

    #[test]
    fn kernel_timestamps() {
        assert_eq!(kernel_ts(b"[   26.355300] cloud-init[658]: x"), Some(26.3553));
        assert_eq!(kernel_ts(b"<14>[    0.000000] Linux version"), Some(0.0));
        assert_eq!(kernel_ts(b"  [1.5]"), Some(1.5));
        for bad in [&b"[  OK  ] Started"[..], b"[26.]", b"[.5]", b"x[1.0]", b"[12345678.0]", b"[1.0", b"<1234>[1.0]", b""] {
            assert_eq!(kernel_ts(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn journal_lines_behind_a_kernel_timestamp_are_told_from_the_kernels_own() {
        for j in [&b"[    0.000000] fargo kernel: Linux version 6.1"[..], b"[    2.345] fargo systemd[1]: systemd 255 running", b"<14>[ 1.0] host.lan cloud-init[600]: x"] {
            assert!(journal_after_ts(j), "{:?}", String::from_utf8_lossy(j));
        }
        for k in [&b"[    0.000000] Linux version 6.1"[..], b"[    0.5] pci 0000:00:01.0: [8086:7000] type 00", b"[    1.2] virtio_net virtio0 eth0: renamed", b"[   26.3] cloud-init[658]: ci-info: x", b"[    1.0] systemd[1]: Started", b"[    1.0] EXT4-fs (vda1): mounted", b"[    3.1] sd 2:0:0:0: [sda] 20971520 blocks", b"[  1.0] a b[x]: c"] {
            assert!(!journal_after_ts(k), "{:?}", String::from_utf8_lossy(k));
        }
        // `journalctl -b -1 -o short-monotonic` after the current boot's table: a replay, not a new boot
        let log = format!("{MODERN}[   45.0] systemd[1]: Started x\n[    0.000000] fargo kernel: Linux version 6.1\n[    2.3] fargo systemd[1]: systemd 255 running\n{}", MODERN.replace("] cloud-init[658]", "] fargo cloud-init[658]").replace("10.0.2.15 ", "10.0.2.99 "));
        let p = parse_all(log.as_bytes());
        assert_eq!(p.boundaries(), 0);
        let t = p.current().table.clone().unwrap_or_default();
        assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), vec![Ipv4Addr::new(10, 0, 2, 15)]);
    }

    #[test]
    fn plain_lines_take_the_fast_path_and_still_mark_boots() {
        assert!(is_plain_line(b"[    1.234] virtio_net virtio0 eth0: renamed"));
        assert!(!is_plain_line(b"[    0.000000] Linux version 6.1"));
        assert!(!is_plain_line(b"x\x1b[0m"));
        assert!(!is_plain_line(b"ci-info: | eth0 |"));
        // a restart seen only through plain lines is still a boundary
        let p = parse_all(format!("{MODERN}[  300.1] reboot: Restarting system\n[    0.9] Command line: BOOT_IMAGE=/vmlinuz\n").as_bytes());
        assert_eq!(p.boundaries(), 1);
        assert!(p.current().table.is_none());
    }

    #[test]
    fn modern_table() {
        let p = parse_all(MODERN.as_bytes());
        let t = p.current().table.clone().unwrap_or_default();
        assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), vec![Ipv4Addr::new(10, 0, 2, 15)]);
        assert_eq!(p.current().cloud_init, CloudInitStage::Init);
    }

    #[test]
    fn byte_by_byte_feeding_gives_the_same_answer() {
        let mut p = ConsoleParser::new();
        for b in MODERN.as_bytes() {
            p.feed(std::slice::from_ref(b));
        }
        let t = p.current().table.clone().unwrap_or_default();
        assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), vec![Ipv4Addr::new(10, 0, 2, 15)]);
    }

    #[test]
    fn reboot_discards_previous_table() {
        let mut log = String::from(MODERN);
        log.push_str("[    0.000000] Linux version 6.1.0 (gcc)\n[    1.2] booting\n");
        let p = parse_all(log.as_bytes());
        assert_eq!(p.boundaries(), 1);
        assert!(p.current().table.is_none());
        assert_eq!(p.current().cloud_init, CloudInitStage::NotSeen);
    }

    #[test]
    fn first_banner_is_not_a_boundary() {
        let log = format!("SeaBIOS\n[    0.000000] Linux version 6.1.0\n{MODERN}");
        let p = parse_all(log.as_bytes());
        assert_eq!(p.boundaries(), 0);
        assert_eq!(p.current().start, None);
    }

    #[test]
    fn timestamp_restart_is_a_boundary() {
        let log = format!("{MODERN}[    0.512000] virtio_net virtio0 eth0: renamed\n");
        let p = parse_all(log.as_bytes());
        assert_eq!(p.boundaries(), 1);
        assert!(p.current().table.is_none());
    }

    #[test]
    fn crlf_ansi_and_wrapping() {
        let wrapped = MODERN.replace("|         10.0.2.15          |", "|         10.0\n.2.15          |").replace('\n', "\r\n").replace("ci-info: |  eth0", "ci-info: \x1b[0;32m|  eth0");
        let p = parse_all(wrapped.as_bytes());
        let t = p.current().table.clone().unwrap_or_default();
        assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), vec![Ipv4Addr::new(10, 0, 2, 15)], "{t:?}");
    }

    #[test]
    fn huge_line_is_capped_and_ignored() {
        let mut log = vec![b'x'; 10 * 1024 * 1024];
        log.extend_from_slice(b"|  eth0  | True | 10.0.2.15 | 255.255.255.0 | global | 52:54:00:12:34:56 |\n");
        log.push(b'\n');
        log.extend_from_slice(MODERN.as_bytes());
        let p = parse_all(&log);
        assert_eq!(p.current().table.as_ref().map(|t| t.ipv4_for(mac("52:54:00:12:34:56"))), Some(vec![Ipv4Addr::new(10, 0, 2, 15)]));
    }

    #[test]
    fn flat_06_missing_address_is_none() {
        let log = "ci-info: lo    : 1 127.0.0.1       255.0.0.0       .\nci-info: eth0  : 1  255.255.255.0   52:54:00:4e:a1:38\nci-info: eth1  : 1 192.168.9.9   255.255.255.0   52:54:00:4e:a1:39\n";
        let p = parse_all(log.as_bytes());
        let t = p.current().table.clone().unwrap_or_default();
        assert!(t.ipv4_for(mac("52:54:00:4e:a1:38")).is_empty());
        assert_eq!(t.ipv4_for(mac("52:54:00:4e:a1:39")), vec![Ipv4Addr::new(192, 168, 9, 9)]);
    }

    #[test]
    fn ssh_user_prefers_non_root() {
        let log = "ci-info: ++++Authorized keys from /root/.ssh/authorized_keys for user root+++\nci-info: ++++Authorized keys from /home/ubuntu/.ssh/authorized_keys for user ubuntu+++\nCloud-init v. 24.1 finished at Thu, 01 Jan. Datasource x. Up 30 seconds\n";
        let p = parse_all(log.as_bytes());
        assert_eq!(p.current().ssh_user(), Some("ubuntu"));
        assert_eq!(p.current().cloud_init, CloudInitStage::Finished);
    }

    #[test]
    fn tail_reader_reads_only_new_bytes_and_detects_truncation() -> Result<(), Box<dyn std::error::Error>> {
        use std::io::Write;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("console.log");
        let mut tail = ConsoleTail::new(4096);
        assert!(!tail.update(&path)?);
        std::fs::write(&path, MODERN)?;
        assert!(tail.update(&path)?);
        assert!(tail.parser().current().table.is_some());
        let mut f = std::fs::OpenOptions::new().append(true).open(&path)?;
        writeln!(f, "[   40.0] cloud-init[1]: Cloud-init v. 25.2 finished at x")?;
        tail.update(&path)?;
        assert_eq!(tail.parser().current().cloud_init, CloudInitStage::Finished);
        // truncation (a new QEMU opened the file with O_TRUNC) starts afresh
        std::fs::write(&path, "[    0.000000] Linux version 6.1\n")?;
        tail.update(&path)?;
        assert!(tail.parser().current().table.is_none());
        Ok(())
    }

    #[test]
    fn tail_reader_skips_all_but_the_tail() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("console.log");
        let mut big = "noise line\n".repeat(100_000);
        big.push_str(MODERN);
        std::fs::write(&path, &big)?;
        let mut tail = ConsoleTail::new(8192);
        tail.update(&path)?;
        assert!(tail.parser().lines() < 1000, "read {} lines", tail.parser().lines());
        assert!(tail.parser().current().table.is_some());
        Ok(())
    }

    #[test]
    fn first_read_reaches_back_only_as_far_as_needed() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("console.log");
        let noise = "[  100.000000] systemd[1]: Started something quite ordinary.\n";
        // the boot's start near the end: only the first window is read
        let early = "[   10.000000] systemd[1]: Started something quite ordinary.\n";
        let start = "[    0.000000] Linux version 6.8.0-45-generic (buildd@lcy02-amd64-115) #45-Ubuntu SMP\n";
        std::fs::write(&path, format!("{}{start}{MODERN}", early.repeat(200_000)))?;
        let mut tail = ConsoleTail::new(64 << 20);
        tail.update(&path)?;
        assert!(tail.parser().current().table.is_some());
        assert!(tail.parser().lines() < 6000, "read {} lines", tail.parser().lines());
        // a table (with its stage) near the end but no boot start: not enough, the reader reaches
        // back to the boot's start or tail_bytes (a replayed earlier boot can end a console)
        std::fs::write(&path, format!("{start}{}{MODERN}", early.repeat(200_000)))?;
        let mut tail = ConsoleTail::new(64 << 20);
        tail.update(&path)?;
        assert!(tail.parser().current().table.is_some());
        assert!(tail.parser().lines() > 200_000, "read only {} lines", tail.parser().lines());
        // the table 3 MB before the end: the reader reaches back to it
        std::fs::write(dir.path().join("c2.log"), format!("{MODERN}{}", noise.repeat(50_000)))?;
        let mut tail = ConsoleTail::new(64 << 20);
        tail.update(&dir.path().join("c2.log"))?;
        let t = tail.parser().current().table.clone().unwrap_or_default();
        assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), vec![Ipv4Addr::new(10, 0, 2, 15)]);
        // but never beyond tail_bytes
        let mut tail = ConsoleTail::new(1 << 20);
        tail.update(&dir.path().join("c2.log"))?;
        assert!(tail.parser().current().table.is_none());
        Ok(())
    }

    const FINISHED: &str = "[   45.2] cloud-init[963]: Cloud-init v. 25.2 finished at Thu, 09 Apr 2026 08:37:28 +0000. Datasource DataSourceNoCloud.  Up 45.10 seconds\n";

    #[test]
    fn qemu_restart_on_an_append_mode_console_begins_a_new_boot_at_the_firmware() {
        // Issue #9 case 1: the new QEMU's firmware and boot loader lines follow boot 1's finished table.
        let log = format!("{MODERN}{FINISHED}SeaBIOS (version 1.16.3-debian-1.16.3-2)\r\n\r\niPXE (https://ipxe.org) 00:03.0 CA00 PCI2.10 PnP PMM+7EFD0FE0+7EF30FE0 CA00\r\n\r\n\r\nBooting from Hard Disk...\r\nGRUB loading.\r\n");
        let p = parse_all(log.as_bytes());
        assert_eq!(p.boundaries(), 1, "one restart, one boundary (at SeaBIOS)");
        assert_eq!(p.current().start, log.find("SeaBIOS").map(|i| i as u64));
        assert!(p.current().table.is_none(), "the old boot's table is not the current boot's: {:?}", p.current());
        assert_eq!(p.current().cloud_init, CloudInitStage::NotSeen);
    }

    #[test]
    fn every_documented_boundary_marker_begins_a_new_boot() {
        for marker in [
            "SeaBIOS (version rel-1.16.3-0-ga6ed6b701f0a-prebuilt.qemu.org)",
            "BdsDxe: loading Boot0001 \"UEFI QEMU HARDDISK QM00001 \" from PciRoot(0x0)/Pci(0x1,0x1)/Ata(Secondary,Master,0x0)",
            "iPXE (http://ipxe.org) 00:03.0 CA00 PCI2.10 PnP PMM+3FF8B3A0+3FECB3A0 CA00",
            "GRUB loading.",
            "Welcome to GRUB!",
            "systemd-boot 255.4-1ubuntu8 (UEFI 2.70)",
            "[  300.123456] reboot: Restarting system",
            "[  300.123456] reboot: Power down",
            "[    0.000000] Linux version 6.8.0-57-generic (buildd@lcy02-amd64-040) (x86_64-linux-gnu-gcc-13) #59-Ubuntu SMP",
            "Linux version 6.8.0-57-generic (buildd@lcy02-amd64-040) #59-Ubuntu SMP",
        ] {
            let log = format!("{MODERN}{marker}\n");
            let p = parse_all(log.as_bytes());
            assert_eq!((p.boundaries(), p.current().table.is_none()), (1, true), "{marker}");
        }
        // A later cloud-init `init-local` in the same console, forward in time, is a new boot too;
        // backwards in time it is a replay of an earlier boot (case 3), not a boundary.
        let p = parse_all(format!("{MODERN}[   95.1] cloud-init[1480]: Cloud-init v. 25.2 running 'init-local' at Fri. Up 95.00 seconds.\n").as_bytes());
        assert_eq!((p.boundaries(), p.current().table.is_none()), (1, true));
        let p = parse_all(format!("{MODERN}<14>Apr  8 07:11:47 cloud-init[480]: Cloud-init v. 25.2 running 'init-local' at Wed. Up 9.40 seconds.\n").as_bytes());
        assert_eq!((p.boundaries(), p.current().table.is_none()), (0, false));
    }

    #[test]
    fn guest_reboot_into_a_quiet_kernel_begins_a_new_boot_at_the_reboot_line() {
        // Issue #9 case 2: `quiet` hides the banner; the first timestamp of the new boot is above 5 s.
        let log = format!("{MODERN}{FINISHED}[  300.412001] reboot: Restarting system\nSeaBIOS (version 1.16.3-debian-1.16.3-2)\nBooting from Hard Disk...\n[    6.204113] EXT4-fs (vda1): mounted filesystem\n");
        let p = parse_all(log.as_bytes());
        assert_eq!(p.current().start, log.find("[  300.412001] reboot").map(|i| i as u64), "{:?}", p.current());
        assert_eq!(p.boundaries(), 1);
        assert!(p.current().table.is_none());
        // the new boot's own table counts
        let p = parse_all(format!("{log}{}", MODERN.replace("10.0.2.15 ", "10.0.2.16 ")).as_bytes());
        let t = p.current().table.clone().unwrap_or_default();
        assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), vec![Ipv4Addr::new(10, 0, 2, 16)]);
    }

    #[test]
    fn lines_older_than_the_qemu_process_never_count() {
        // Issue #9 case 4: a guest uptime above the QEMU process's age belongs to an earlier process.
        let mut p = ConsoleParser::new();
        p.set_uptime_limit(Some(3.0));
        p.feed(MODERN.as_bytes());
        assert!(p.current().table.is_none(), "a table printed at 26 s uptime by a 3 s old QEMU: {:?}", p.current());
        // the new process's own lines begin its boot
        let mut p2 = ConsoleParser::new();
        p2.set_uptime_limit(Some(30.0));
        p2.feed(format!("{MODERN}[    1.2] virtio_net virtio0 eth0: renamed\n").as_bytes());
        p.set_uptime_limit(Some(30.0));
        p.feed(b"[    1.2] virtio_net virtio0 eth0: renamed\n");
        assert!(p.current().table.is_none());
        p.feed(MODERN.as_bytes());
        assert!(p.current().table.is_some(), "the new process's own table counts");
        // `Up N seconds` is the same evidence as a kernel timestamp
        let mut p = ConsoleParser::new();
        p.set_uptime_limit(Some(10.0));
        p.feed(b"<14>Apr  9 08:37:09 cloud-init: Cloud-init v. 25.2 running 'init' at Thu. Up 26.20 seconds.\n");
        p.feed(MODERN.lines().filter(|l| l.contains("ci-info")).map(|l| format!("<14>Apr  9 08:37:09 cloud-init: {}\n", &l[l.find("ci-info").unwrap_or(0)..])).collect::<String>().as_bytes());
        assert!(p.current().table.is_none(), "{:?}", p.current());
    }

    #[test]
    fn a_replayed_earlier_boot_never_replaces_the_current_boot() {
        // Issue #9 case 3: `journalctl -b -1` printed on ttyS0 in the current boot.
        let replay = "Apr 08 07:11:40 ubuntu kernel: Linux version 6.8.0-57-generic (buildd@lcy02-amd64-040) #59-Ubuntu SMP\n\
Apr 08 07:11:47 ubuntu cloud-init[480]: Cloud-init v. 25.2 running 'init-local' at Wed, 08 Apr 2026 07:11:47 +0000. Up 6.91 seconds.\n\
Apr 08 07:12:01 ubuntu cloud-init[612]: Cloud-init v. 25.2 running 'init' at Wed, 08 Apr 2026 07:12:01 +0000. Up 20.80 seconds.\n";
        let table: String = MODERN.lines().filter(|l| l.contains("ci-info")).map(|l| format!("Apr 08 07:12:01 ubuntu cloud-init[612]: {}\n", &l[l.find("ci-info").unwrap_or(0)..].replace("10.0.2.15 ", "10.0.2.99 "))).collect();
        let log = format!("{MODERN}{FINISHED}[   80.0] systemd[1]: Started session-1.scope.\n{replay}{table}");
        let p = parse_all(log.as_bytes());
        assert_eq!(p.boundaries(), 0, "{:?}", p.current());
        let t = p.current().table.clone().unwrap_or_default();
        assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), vec![Ipv4Addr::new(10, 0, 2, 15)]);
        assert_eq!(p.current().cloud_init, CloudInitStage::Finished);
        // and the current boot goes on after the replay
        let p = parse_all(format!("{log}{}", MODERN.replace("[   26.", "[   99.").replace("10.0.2.15 ", "10.0.2.77 ")).as_bytes());
        let t = p.current().table.clone().unwrap_or_default();
        assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), vec![Ipv4Addr::new(10, 0, 2, 77)]);
    }

    #[test]
    fn a_quiet_restart_on_an_appended_log_is_a_new_boot_by_the_stage_wall_clock() {
        // The rig's scenario 9 console (lab guest, `quiet`, `-chardev file,append=on`): boot 2's
        // first line goes back from 7.66 s to 5.19 s of uptime, above 5 s, with no banner; its wall
        // clock is 20 s later than boot 1's.
        let boot = |ts: [&str; 3], at: [&str; 2], ip: &str| {
            format!(
                "[{}] cloud-init[108]: Cloud-init v. 99.0 running 'init' at Thu, 03 Dec 2026 {} +0000. Up {} seconds.\n\
[    6.270000] cloud-init[108]: ci-info: ++++++++++++++++++++++++++++++++++++Net device info+++++++++++++++++++++++++++++++++++++\n\
[    6.340000] cloud-init[108]: ci-info: | Device |  Up  |         Address         |      Mask     | Scope  |     Hw-Address    |\n\
[    6.420000] cloud-init[108]: ci-info: |  eth0  | True |       {ip}       | 255.255.255.0 | global | 52:54:00:77:00:01 |\n\
[    6.510000] cloud-init[108]: ci-info: +--------+------+-------------------------+---------------+--------+-------------------+\n\
[{}] cloud-init[108]: Cloud-init v. 99.0 finished at Thu, 03 Dec 2026 {} +0000. Datasource DataSourceNone.  Up 7.65 seconds\n",
                ts[0], at[0], ts[1], ts[2], at[1]
            )
        };
        let one = boot(["    5.710000", "5.59", "    7.660000"], ["18:58:44", "18:58:46"], "10.77.0.130");
        let two = boot(["    5.190000", "5.17", "    7.600000"], ["18:59:06", "18:59:08"], "10.77.0.131");
        let first_line = two.lines().next().unwrap_or_default();
        let p = parse_all(format!("{one}{first_line}\n").as_bytes());
        assert_eq!((p.boundaries(), p.current().table.is_none(), p.current().cloud_init), (1, true, CloudInitStage::Init), "{:?}", p.current());
        let p = parse_all(format!("{one}{two}").as_bytes());
        let t = p.current().table.clone().unwrap_or_default();
        assert_eq!((p.boundaries(), t.ipv4_for(mac("52:54:00:77:00:01"))), (1, vec![Ipv4Addr::new(10, 77, 0, 131)]));
        // a boot 1 so short that boot 2's first line is even forward in uptime: `init` after
        // `finished` (cloud-init's stages only move forward in one boot)
        let one_short = one.replace("[    7.660000]", "[    6.190000]");
        let two_later = boot(["    6.590000", "6.56", "    7.600000"], ["18:59:06", "18:59:08"], "10.77.0.131").replace("[    6.", "[    7.");
        let first_line = two_later.lines().next().unwrap_or_default();
        let p = parse_all(format!("{one_short}{first_line}\n").as_bytes());
        assert_eq!((p.boundaries(), p.current().table.is_none(), p.current().cloud_init), (1, true, CloudInitStage::Init), "{:?}", p.current());
        // the same lines with an earlier wall clock are a replay
        let replay = two.replace("18:59:0", "18:50:0");
        let p = parse_all(format!("{one}{replay}").as_bytes());
        let t = p.current().table.clone().unwrap_or_default();
        assert_eq!((p.boundaries(), t.ipv4_for(mac("52:54:00:77:00:01"))), (0, vec![Ipv4Addr::new(10, 77, 0, 130)]));
    }

    #[test]
    fn a_wall_clock_stepped_back_inside_one_boot_is_not_a_replay() {
        // NTP steps the guest's clock back 2 h between cloud-init's stages (an RTC kept in local
        // time): uptime goes on, so the later stages and the table still count.
        let log = format!(
            "{}[   40.5] cloud-init[933]: Cloud-init v. 25.2 running 'modules:config' at Thu, 09 Apr 2026 06:37:23 +0000. Up 40.27 seconds.\n\
[   45.2] cloud-init[963]: Cloud-init v. 25.2 finished at Thu, 09 Apr 2026 06:37:28 +0000. Datasource DataSourceNoCloud.  Up 45.10 seconds\n",
            MODERN.replace("at Thu.", "at Thu, 09 Apr 2026 08:37:09 +0000.")
        );
        let p = parse_all(log.as_bytes());
        assert_eq!((p.boundaries(), p.current().cloud_init), (0, CloudInitStage::Finished));
        let t = p.current().table.clone().unwrap_or_default();
        assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), vec![Ipv4Addr::new(10, 0, 2, 15)]);
    }

    #[test]
    fn a_row_folded_at_exactly_80_columns_keeps_its_address() {
        let row = "ci-info: |  eth0  | True |        192.168.1.51        | 255.255.255.0 | global | 52:54:00:15:7a:e3 |";
        let log = format!("ci-info: ++++Net device info++++\nci-info: | Device |  Up  | Address | Mask | Scope | Hw-Address |\n{}\n{}\nci-info: +----+\n", &row[..80], &row[80..]);
        let p = parse_all(log.as_bytes());
        let t = p.current().table.clone().unwrap_or_default();
        assert_eq!(t.ipv4_for(mac("52:54:00:15:7a:e3")), vec![Ipv4Addr::new(192, 168, 1, 51)], "{t:?}");
    }

    #[test]
    fn a_row_that_is_not_up_gives_no_address() {
        let p = parse_all(MODERN.replace("|  eth0  | True |         10.0.2.15 ", "|  eth0  | False|         10.0.2.15 ").as_bytes());
        let t = p.current().table.clone().unwrap_or_default();
        assert!(t.macs().contains(&mac("52:54:00:12:34:56")));
        assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), Vec::<Ipv4Addr>::new(), "{t:?}");
    }

    #[test]
    fn bridge_and_container_devices_never_give_the_vms_address() {
        for dev in ["virbr0", "virbr1", "docker0", "br-3f2a9c1d7e4b", "cni0", "lxdbr0", "lxcbr0", "veth1a2b3c", "flannel.1", "cali1234abcd", "podman0", "mpqemubr0", "vnet3", "tap0", "virbr0-nic"] {
            let log = MODERN.replace("|  eth0  | True |         10.0.2.15  ", &format!("| {dev:^6} | True |         10.0.2.15  "));
            let p = parse_all(log.as_bytes());
            let t = p.current().table.clone().unwrap_or_default();
            assert_eq!(t.rows.iter().filter(|r| r.device == dev).count(), 1, "{dev}: {t:?}");
            assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), Vec::<Ipv4Addr>::new(), "{dev}");
        }
        // the VM's own NIC names are not bridges
        for dev in ["eth0", "ens3", "enp0s1", "vtnet0", "br0"] {
            let log = MODERN.replace("|  eth0  | True |         10.0.2.15  ", &format!("| {dev:^6} | True |         10.0.2.15  "));
            let t = parse_all(log.as_bytes()).current().table.clone().unwrap_or_default();
            assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), vec![Ipv4Addr::new(10, 0, 2, 15)], "{dev}");
        }
    }

    #[test]
    fn console_rewritten_in_place_past_the_old_length_is_read_afresh() -> Result<(), Box<dyn std::error::Error>> {
        // Issue #9 case 5: same inode, O_TRUNC, refilled past the old length before the next read.
        use std::io::Write;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("console.log");
        std::fs::write(&path, format!("{MODERN}{FINISHED}"))?;
        let mut tail = ConsoleTail::new(1 << 20);
        tail.update(&path)?;
        assert!(tail.parser().current().table.is_some());
        let ino = file_identity(&std::fs::metadata(&path)?);
        let mut f = std::fs::OpenOptions::new().write(true).truncate(true).open(&path)?;
        f.write_all(b"SeaBIOS (version 1.16.3-debian-1.16.3-2)\nBooting from Hard Disk...\n")?;
        for i in 0..60 {
            writeln!(f, "[  OK  ] Started unit-{i:02}.service - An ordinary unit of the new boot.")?;
        }
        drop(f);
        assert_eq!(file_identity(&std::fs::metadata(&path)?), ino, "same inode");
        assert!(std::fs::metadata(&path)?.len() > (MODERN.len() + FINISHED.len()) as u64);
        tail.update(&path)?;
        assert!(tail.parser().current().table.is_none(), "the rewritten console's old table was kept: {:?}", tail.parser().current());
        Ok(())
    }

    #[test]
    fn bytes_read_before_a_new_qemu_started_never_count() -> Result<(), Box<dyn std::error::Error>> {
        // Issue #9 case 4, for a reader that follows the console: a new QEMU (started after the
        // last read) on an appended log; its first lines carry no boundary at all.
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("console.log");
        std::fs::write(&path, format!("{MODERN}{FINISHED}"))?;
        let now = now_secs().unwrap_or(0.0) as u64;
        let mut tail = ConsoleTail::new(1 << 20);
        tail.set_process(Some((100, now - 600)));
        tail.update(&path)?;
        assert!(tail.parser().current().table.is_some());
        // the same process after a failed liveness read: nothing is fenced
        tail.set_process(None);
        tail.set_process(Some((100, now - 600)));
        tail.update(&path)?;
        assert!(tail.parser().current().table.is_some());
        // a process that started after the last read
        tail.set_process(Some((200, now + 5)));
        std::fs::OpenOptions::new().append(true).open(&path)?.write_all(b"[  OK  ] Started systemd-journald.service - Journal Service.\n")?;
        tail.update(&path)?;
        assert!(tail.parser().current().table.is_none(), "{:?}", tail.parser().current());
        assert_eq!(tail.parser().current().cloud_init, CloudInitStage::NotSeen);
        Ok(())
    }

    #[test]
    fn fifo_is_not_opened() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("console.log");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600))?;
        let mut tail = ConsoleTail::new(4096);
        assert!(matches!(tail.update(&path), Err(ConsoleError::NotRegular)));
        Ok(())
    }
}
