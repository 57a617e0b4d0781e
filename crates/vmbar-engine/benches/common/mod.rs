//! Shared parts of the engine benchmarks: generated VM fleets on disk (realistic
//! console logs, a registry, pidfiles held by a live QEMU-like process), fake
//! network ports (prober, resolver, neighbour table) and CPU-time measurement.
//!
//! Nothing here touches the network: the prober answers with an SSH banner at
//! once, the resolver answers from the fleet's own table, and the neighbour
//! table is the text of `/proc/net/arp` (`proc(5)`) for the fleet, parsed on
//! every read exactly as the real Linux adapter parses the real file.
#![allow(dead_code, missing_docs, clippy::unwrap_used)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vmbar_engine::config::{self, Overrides, Settings};
use vmbar_engine::dns::Resolver;
use vmbar_engine::engine::{Engine, Ports, RefreshOptions};
use vmbar_engine::neighbours::{self, NeighbourFormat, NeighbourTable};
use vmbar_engine::os::NeighbourSource;
use vmbar_engine::probe::{BoxFuture, ProbeOutcome, Prober};
use vmbar_engine::process::{OsProcessTable, ProcInfo, ProcessTable};

/// VM number `i`'s address: 10.78.0.0/16, never .0/.1/.255.
pub fn vm_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 78, (i / 250) as u8, (i % 250 + 2) as u8)
}

/// VM number `i`'s EUI-48 MAC (QEMU's 52:54:00 prefix).
pub fn vm_mac(i: usize) -> String {
    format!("52:54:00:be:{:02x}:{:02x}", (i >> 8) & 0xff, i & 0xff)
}

pub fn vm_name(i: usize) -> String {
    format!("vm{i:04}")
}

/// A realistic serial console of about `size` bytes for VM `i`: a kernel boot,
/// systemd units, cloud-init stages with the Net device info table (cloud-init
/// 25.x layout, the VM's MAC and IPv4), the final stage, then what a VM that runs
/// for days prints (audit, systemd-timesyncd, journal lines) with kernel
/// timestamps that only grow (so the noise is not a new boot).
pub fn console_text(i: usize, size: usize) -> Vec<u8> {
    let ip = vm_ip(i);
    let mac = vm_mac(i);
    let mut s = String::with_capacity(size + 4096);
    let mut t = 0.0f64;
    ts(&mut s, "Linux version 6.8.0-45-generic (buildd@lcy02-amd64-115) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0, GNU ld (GNU Binutils for Ubuntu) 2.42) #45-Ubuntu SMP PREEMPT_DYNAMIC", &mut t, 0.0);
    ts(&mut s, "Command line: BOOT_IMAGE=/vmlinuz-6.8.0-45-generic root=LABEL=cloudimg-rootfs ro console=tty1 console=ttyS0", &mut t, 0.0);
    for k in 0..400 {
        ts(&mut s, &format!("pci 0000:00:{:02x}.0: [1af4:1000] type 00 class 0x020000 conventional PCI endpoint; BAR {k} [io  0xc000-0xc03f]", k % 32), &mut t, 0.0013);
    }
    for unit in ["systemd-journald.service", "systemd-udevd.service", "systemd-networkd.service", "ssh.service", "snapd.seeded.service"] {
        let _ = writeln!(s, "[  OK  ] Started {unit} - Journal Service.");
    }
    let up = t;
    ci(&mut s, &mut t, &format!("Cloud-init v. 25.2-0ubuntu1~24.04.1 running 'init-local' at Thu, 09 Apr 2026 08:37:01 +0000. Up {up:.2} seconds."));
    let up = t;
    ci(&mut s, &mut t, &format!("Cloud-init v. 25.2-0ubuntu1~24.04.1 running 'init' at Thu, 09 Apr 2026 08:37:09 +0000. Up {up:.2} seconds."));
    let eth = format!("|  eth0  | True | {:^26} | 255.255.0.0   | global | {mac} |", ip.to_string());
    for line in [
        "ci-info: ++++++++++++++++++++++++++++++++++++++Net device info++++++++++++++++++++++++++++++++++++++",
        "ci-info: +--------+------+----------------------------+---------------+--------+-------------------+",
        "ci-info: | Device |  Up  |          Address           |      Mask     | Scope  |     Hw-Address    |",
        "ci-info: +--------+------+----------------------------+---------------+--------+-------------------+",
        &format!("ci-info: {eth}"),
        "ci-info: |   lo   | True |         127.0.0.1          |   255.0.0.0   |  host  |         .         |",
        "ci-info: |   lo   | True |          ::1/128           |       .       |  host  |         .         |",
        "ci-info: +--------+------+----------------------------+---------------+--------+-------------------+",
    ] {
        ci(&mut s, &mut t, line);
    }
    let up = t;
    ci(&mut s, &mut t, &format!("Cloud-init v. 25.2-0ubuntu1~24.04.1 running 'modules:config' at Thu, 09 Apr 2026 08:37:12 +0000. Up {up:.2} seconds."));
    let up = t;
    ci(&mut s, &mut t, &format!("Cloud-init v. 25.2-0ubuntu1~24.04.1 running 'modules:final' at Thu, 09 Apr 2026 08:37:13 +0000. Up {up:.2} seconds."));
    let up = t;
    ci(&mut s, &mut t, &format!("Cloud-init v. 25.2-0ubuntu1~24.04.1 finished at Thu, 09 Apr 2026 08:37:14 +0000. Datasource DataSourceNoCloud [seed=/dev/vdb]. Up {up:.2} seconds"));
    let _ = writeln!(s, "\nUbuntu 24.04.1 LTS {} ttyS0\n\n{} login: ", vm_name(i), vm_name(i));
    let mut out = s.into_bytes();
    if out.len() < size {
        let n = noise(size - out.len());
        out.extend_from_slice(&n);
    }
    out
}

/// `len` bytes of what a long-running guest prints after boot (kernel
/// timestamps from 100 s up), generated once per length and shared by all VMs.
pub fn noise(len: usize) -> Arc<Vec<u8>> {
    static CACHE: std::sync::Mutex<Option<(usize, Arc<Vec<u8>>)>> = std::sync::Mutex::new(None);
    let mut c = CACHE.lock().unwrap();
    if let Some((l, v)) = c.as_ref() {
        if *l == len {
            return v.clone();
        }
    }
    let mut s = String::with_capacity(len + 512);
    let mut t = 100.0f64;
    let mut k = 0u64;
    while s.len() < len {
        k += 1;
        t += 0.37;
        let line = match k % 4 {
            0 => format!("audit: type=1400 audit({}.{:03}:{k}): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"snap.lxd.daemon\" name=\"/proc/{k}/mountinfo\" pid={k} comm=\"lxd\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0", 1_775_000_000 + k, k % 1000),
            1 => format!("systemd-journald[389]: Data hash table of /var/log/journal/8d1f/system.journal has a fill level at 75.0 ({k} of 11832 items, 6815744 file size, 489 bytes per hash table item), suggesting rotation."),
            2 => format!("EXT4-fs (vda1): resizing filesystem from {} to {} blocks", 500_000 + k, 600_000 + k),
            _ => format!("systemd[1]: Started session-{k}.scope - Session {k} of User ubuntu."),
        };
        let _ = writeln!(s, "[{t:>12.6}] {line}");
    }
    let v = Arc::new(s.into_bytes());
    *c = Some((len, v.clone()));
    v
}

fn ts(s: &mut String, text: &str, t: &mut f64, step: f64) {
    *t += step;
    let _ = writeln!(s, "[{:>12.6}] {text}", *t);
}

fn ci(s: &mut String, t: &mut f64, text: &str) {
    *t += 0.0007;
    let _ = writeln!(s, "[{:>12.6}] cloud-init[658]: {text}", *t);
}

/// One line a running VM appends to its console (a new line at a later kernel time).
pub fn append_line(k: u64) -> Vec<u8> {
    format!("[{:>12.6}] systemd[1]: Started session-{k}.scope - Session {k} of User ubuntu.\n", 1_000_000.0 + k as f64 * 0.5).into_bytes()
}

/// A generated fleet: `n` VM folders, a registry, the `/proc/net/arp` text, and
/// optionally one QEMU-like process holding every pidfile's lock.
pub struct Fleet {
    pub dir: tempfile::TempDir,
    pub n: usize,
    pub arp_text: Arc<String>,
    pub dns: Arc<HashMap<String, Ipv4Addr>>,
    pub locker: Option<Locker>,
    pub console_bytes: u64,
}

/// One live process (argv[0] `qemu-system-x86_64`) that holds a `fcntl` write
/// lock on every VM's `qemu.pid` and wrote its pid there, as QEMU's
/// `-pidfile` does. One process for the whole fleet keeps a 1000-VM fleet
/// cheap; the engine's work per VM (read the pidfile, `F_GETLK`, the process
/// entry through `sysinfo`) is the same as with one QEMU per VM.
pub struct Locker {
    child: Child,
    pub pid: u32,
}

impl Drop for Locker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const LOCKER_PY: &str = r#"
import fcntl, os, sys, time
fs = []
for p in open(sys.argv[1]).read().split("\n"):
    if not p:
        continue
    f = open(p, "a+"); fcntl.lockf(f, fcntl.LOCK_EX); f.truncate(0); f.write(str(os.getpid()) + "\n"); f.flush(); fs.append(f)
print("ready", flush=True)
sys.stdin.read()
"#;

impl Fleet {
    /// Builds `n` VMs with consoles of `console_bytes` each (generated once per
    /// VM: each console carries its own MAC and IPv4). With `real_processes`,
    /// a QEMU-like process holds the pidfiles (python3 is needed); else the
    /// pidfiles name pid 1 and [`FakeProcesses`] vouches for it.
    pub fn build(n: usize, console_bytes: usize, real_processes: bool) -> Fleet {
        let dir = tempfile::Builder::new().prefix("vmbar-bench-").tempdir().unwrap();
        let mut registry = String::from("{\"vms\": {");
        let mut arp = String::from("IP address       HW type     Flags       HW address            Mask     Device\n");
        let mut dns = HashMap::new();
        let mut pidfiles = String::new();
        for i in 0..n {
            let name = vm_name(i);
            let d = dir.path().join(&name);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("disk.qcow2"), b"").unwrap();
            let _ = write!(registry, "{}\"{name}\": {{\"ip_address\": \"{}\", \"mac_address\": \"{}\", \"hostname\": \"{name}\", \"ssh_user\": \"ubuntu\", \"ssh_port\": 22, \"memory\": 2048, \"cpus\": 2, \"image\": \"noble-server-cloudimg-amd64.img\"}}", if i == 0 { "" } else { ", " }, vm_ip(i), vm_mac(i));
            let _ = writeln!(arp, "{:<16} 0x1         0x2         {}     *        br-vmbench", vm_ip(i).to_string(), vm_mac(i));
            dns.insert(name.clone(), vm_ip(i));
            let _ = writeln!(pidfiles, "{}", d.join("qemu.pid").display());
        }
        registry.push_str("}}\n");
        std::fs::write(dir.path().join("registry.json"), registry).unwrap();
        let locker = if real_processes { Some(Locker::start(dir.path(), &pidfiles)) } else { None };
        if locker.is_none() {
            for i in 0..n {
                std::fs::write(dir.path().join(vm_name(i)).join("qemu.pid"), "1\n").unwrap();
            }
        }
        // Consoles after the process started: content older than its QEMU is an earlier boot.
        std::thread::sleep(Duration::from_millis(1100));
        for i in 0..n {
            let mut f = std::fs::File::create(dir.path().join(vm_name(i)).join("console.log")).unwrap();
            f.write_all(&console_text(i, console_bytes)).unwrap();
        }
        Fleet { dir, n, arp_text: Arc::new(arp), dns: Arc::new(dns), locker, console_bytes: console_bytes as u64 }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Settings for this fleet (no config file; every source on).
    pub fn settings(&self) -> Settings {
        let overrides = Overrides { config_file: Some(self.path().join("no-such-config.toml")), vms_dir: Some(self.path().to_owned()) };
        config::load(&overrides).unwrap()
    }

    /// An engine on fake network ports; the process table is the OS's when a
    /// locker process holds the pidfiles, else [`FakeProcesses`].
    pub fn engine(&self) -> Engine {
        let processes: Arc<dyn ProcessTable> = if self.locker.is_some() { Arc::new(OsProcessTable) } else { Arc::new(FakeProcesses) };
        let ports = Ports {
            processes,
            prober: Arc::new(BannerProber),
            resolver: Arc::new(TableResolver(self.dns.clone())),
            neighbours: Arc::new(ArpText(self.arp_text.clone())),
            routes: Arc::new(vmbar_engine::routes::StaticRoutes(vmbar_engine::routes::RouteTable::from_prefixes(&["0.0.0.0/0"]))),
        };
        Engine::with_ports(self.settings(), ports)
    }
}

impl Locker {
    fn start(dir: &Path, pidfiles: &str) -> Locker {
        let list = dir.join(".pidfiles");
        std::fs::write(&list, pidfiles).unwrap();
        let mut child = Command::new("bash")
            .arg("-c")
            .arg("exec -a qemu-system-x86_64 python3 -c \"$0\" \"$1\" -pidfile \"$1\" -device virtio-net-pci,mac=52:54:00:be:ff:ff")
            .arg(LOCKER_PY)
            .arg(&list)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 for the QEMU-like pidfile holder");
        let mut out = child.stdout.take().unwrap();
        let mut buf = [0u8; 6];
        std::io::Read::read_exact(&mut out, &mut buf).expect("pidfile holder did not start");
        let pid = child.id();
        Locker { child, pid }
    }
}

/// A process table in which pid 1 is this VM's QEMU holding its pidfile lock.
pub struct FakeProcesses;

impl ProcessTable for FakeProcesses {
    fn process(&self, _pid: u32) -> Option<ProcInfo> {
        Some(ProcInfo { argv: vec!["qemu-system-x86_64".into(), "-pidfile".into(), "qemu.pid".into()], started: 1, cwd: None, kernel_thread: false })
    }
    fn lock_owner(&self, path: &Path) -> std::io::Result<Option<u32>> {
        let _ = path;
        Ok(Some(1))
    }
}

/// Every probe reads an OpenSSH banner at once.
pub struct BannerProber;

impl Prober for BannerProber {
    fn probe(&self, _addr: SocketAddrV4, _timeout: Duration) -> BoxFuture<ProbeOutcome> {
        Box::pin(async { ProbeOutcome::Banner("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5".into()) })
    }
}

/// Answers each VM name with its address.
pub struct TableResolver(pub Arc<HashMap<String, Ipv4Addr>>);

impl Resolver for TableResolver {
    fn lookup(&self, name: String) -> BoxFuture<Result<Vec<Ipv4Addr>, String>> {
        let r = self.0.get(&name).map(|ip| vec![*ip]).ok_or_else(|| "NXDOMAIN".to_string());
        Box::pin(async move { r })
    }
}

/// The fleet's `/proc/net/arp` text, parsed on every read like the Linux adapter does.
pub struct ArpText(pub Arc<String>);

impl NeighbourSource for ArpText {
    fn read(&self) -> BoxFuture<Result<NeighbourTable, String>> {
        let t = self.0.clone();
        Box::pin(async move { Ok(neighbours::parse_as(&t, NeighbourFormat::ProcNetArp)) })
    }
}

/// User + system CPU time of this process (all threads), from `getrusage(RUSAGE_SELF)`.
pub fn cpu_time() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    let u = getrusage(UsageWho::RUSAGE_SELF).unwrap();
    let tv = |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
    tv(u.user_time()) + tv(u.system_time())
}

/// Peak RSS of this process so far, KiB (`ru_maxrss`).
pub fn peak_rss_kib() -> i64 {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_SELF).map(|u| u.max_rss()).unwrap_or(0)
}

/// Current RSS, KiB (`VmRSS` of `/proc/self/status`).
pub fn rss_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// The refresh options of a monitor tick: probes finished at once with the fakes.
pub fn opts() -> RefreshOptions {
    RefreshOptions { wait: Duration::from_millis(1500) }
}

/// One refresh on `rt`; returns the number of VMs `running` with an IPv4.
pub fn refresh_running(rt: &tokio::runtime::Runtime, engine: &mut Engine) -> usize {
    let (snap, _) = rt.block_on(engine.refresh(opts()));
    snap.vms.iter().filter(|v| v.status == vmbar_engine::Status::Running && v.ipv4.is_some()).count()
}

/// Wall and CPU time of `f`.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Duration) {
    let c0 = cpu_time();
    let t0 = Instant::now();
    let r = f();
    (r, t0.elapsed(), cpu_time() - c0)
}

/// Appends one JSON object per line to `$VMBAR_BENCH_OUT` (default
/// `target/vmbar-bench/NAME.jsonl` under the workspace), for `scripts/bench`'s tables.
pub fn record(name: &str, json: &str) {
    let path = std::env::var_os("VMBAR_BENCH_OUT").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/vmbar-bench").join(format!("{name}.jsonl"))
    });
    if let Some(p) = path.parent() {
        let _ = std::fs::create_dir_all(p);
    }
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&path) {
        let _ = writeln!(f, "{json}");
    }
    println!("{name}: {json}");
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
