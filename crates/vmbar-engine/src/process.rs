//! Is this VM's QEMU alive? The pidfile, its lock, and the process table.
//!
//! QEMU started with `-pidfile PATH` writes its pid there and keeps a write
//! lock on the file for its whole life (`qemu_write_pidfile` in QEMU's
//! `util/oslib-posix.c`). A process counts as this VM's QEMU only when
//! - the owner of that lock (`fcntl(F_GETLK)`) is the pid in the file, or
//! - its `argv[0]` is `qemu-system-*` (or `qemu-kvm`) and its `-pidfile`
//!   argument resolves (against the process's working directory) to this
//!   VM's pidfile (same device and inode).
//!
//! A stale pidfile, or a pid now used by another program, is `stopped`.
//! Where liveness cannot be read (a root-owned QEMU whose argv or working
//! directory we may not read), the result says so and the status follows the
//! other evidence.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::mac::MacAddr;

/// One process as the OS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    /// argv, lossily decoded; empty when it could not be read (another user's process on macOS).
    pub argv: Vec<String>,
    /// Start time, seconds since the Unix epoch.
    pub started: u64,
    /// The working directory, when readable (resolves a relative `-pidfile`).
    pub cwd: Option<PathBuf>,
    /// A kernel thread (Linux: `PF_KTHREAD`, 0x00200000, in field 9 of `/proc/PID/stat`, as
    /// read by `sysinfo`): kthreadd, a kworker. Never QEMU; its argv is empty because it has none.
    pub kernel_thread: bool,
}

/// The OS process table, behind a trait so that status rules are testable.
pub trait ProcessTable: Send + Sync {
    /// The process with this pid, or `None` when there is none.
    fn process(&self, pid: u32) -> Option<ProcInfo>;
    /// The pid owning a write lock on `path` (`fcntl(F_GETLK)`): `Ok(Some(pid))`,
    /// `Ok(None)` when unlocked, `Ok(Some(0))` for an open-file-description lock
    /// whose owner the kernel does not report.
    ///
    /// # Errors
    /// The I/O error from opening the file or from `fcntl`.
    fn lock_owner(&self, path: &Path) -> std::io::Result<Option<u32>>;
}

/// What the pidfile and process table say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// This VM's QEMU is alive.
    Alive {
        /// Its pid.
        pid: u32,
        /// Its start time (Unix seconds).
        started: u64,
        /// The `mac=` of its NIC, when its argv has exactly one.
        cmdline_mac: Option<MacAddr>,
        /// What could not be read of it, and what its liveness rests on instead (a QEMU run
        /// as root, e.g. for macOS vmnet networking, whose command line the user's vmbar
        /// cannot read: alive because it holds the pidfile's lock); `None` when all was read.
        unread: Option<String>,
    },
    /// No live QEMU for this VM; the reason is the row's detail.
    Dead(String),
    /// A process with the pid exists but could not be verified as this VM's QEMU.
    Unverified {
        /// Its pid.
        pid: u32,
        /// Its start time, when readable.
        started: u64,
        /// Why it could not be verified.
        reason: String,
    },
}

/// Reads a pidfile (at most its first 64 bytes): `Ok(None)` when absent; the pid otherwise.
///
/// # Errors
/// A readable message when the file holds no pid (junk, empty, zero, too large),
/// is not a regular file (a FIFO is never read: it would block), or cannot be read.
pub fn read_pidfile(path: &Path) -> Result<Option<u32>, String> {
    use std::io::Read;
    // Opened non-blocking and checked before reading: a FIFO or device would block
    // the read (and the whole refresh) for ever.
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(nix::libc::O_NONBLOCK);
    }
    let file = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read qemu.pid: {e}")),
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err("qemu.pid is not a regular file".into());
    }
    let mut text = Vec::new();
    if let Err(e) = file.take(64).read_to_end(&mut text) {
        return Err(format!("cannot read qemu.pid: {e}"));
    }
    let s = String::from_utf8_lossy(&text[..text.len().min(64)]);
    match s.trim().parse::<u32>() {
        Ok(0) | Err(_) => Err(format!("qemu.pid holds no pid ({:?})", s.trim().chars().take(20).collect::<String>())),
        Ok(pid) if pid > 4_194_304 => Err(format!("qemu.pid holds an impossible pid {pid}")),
        Ok(pid) => Ok(Some(pid)),
    }
}

/// What a `qemu.pid` this user may not read says (`error`, the open's `EACCES`/`EPERM`):
/// QEMU creates its pidfile with mode 0600, so a QEMU run as another user (root, as macOS
/// vmnet networking needs) leaves one the user's vmbar can neither read nor lock-test. It is
/// not proof of a stopped VM (QEMU removes its pidfile when it exits): the status rests on
/// the other sources, and nothing from the console is confirmed (no process is tied to the
/// VM). `owner` is the file's owner uid, when known.
pub fn unreadable_pidfile(error: &std::io::Error, owner: Option<u32>) -> Liveness {
    let whose = owner.map(|u| if u == 0 { "root".to_string() } else { format!("uid {u}") }).unwrap_or_else(|| "another user".into());
    Liveness::Unverified {
        pid: 0,
        started: 0,
        reason: format!(
            "qemu.pid belongs to {whose} and cannot be read ({error}): QEMU may be running as that user (e.g. for vmnet); vmbar cannot tie a process to this VM, so its console confirms nothing (make qemu.pid readable, e.g. chmod a+r, or run vmbar as {whose})"
        ),
    }
}

/// The owner uid of `path`, when its metadata is readable.
fn owner_uid(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.uid())
}

/// Decides whether the pid in `pidfile` is this VM's live QEMU.
pub fn liveness(table: &dyn ProcessTable, pidfile: &Path) -> Liveness {
    let pid = match read_pidfile(pidfile) {
        Ok(Some(p)) => p,
        Ok(None) => return Liveness::Dead("no qemu.pid".into()),
        Err(e) => {
            // Non-blocking, like read_pidfile: a FIFO must never block the refresh.
            let denied = {
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new().read(true).custom_flags(nix::libc::O_NONBLOCK).open(pidfile).err().filter(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
            };
            return match denied {
                Some(d) => unreadable_pidfile(&d, owner_uid(pidfile)),
                None => Liveness::Dead(e),
            };
        }
    };
    let Some(info) = table.process(pid) else {
        return Liveness::Dead(format!("qemu.pid names pid {pid}, which is not running"));
    };
    if info.kernel_thread {
        // pid reuse: the pid now belongs to a kernel thread, which never holds a pidfile lock
        return Liveness::Dead(format!("qemu.pid names pid {pid}, a kernel thread, not QEMU"));
    }
    let lock = table.lock_owner(pidfile);
    let cmdline_mac = cmdline_mac(&info.argv);
    if let Ok(Some(owner)) = lock {
        if owner == pid {
            // Holding the lock QEMU takes on its own -pidfile ties the process to this VM,
            // whether or not its command line is readable (another user's QEMU: root's, for
            // vmnet on macOS). Say what was not read and what the status rests on.
            let unread = info.argv.is_empty().then(|| {
                format!("pid {pid} holds qemu.pid's lock (so it is this VM's QEMU), but its command line cannot be read (another user's process, e.g. run as root): its mac= is unknown, the MAC comes from the registry or the console")
            });
            return Liveness::Alive { pid, started: info.started, cmdline_mac, unread };
        }
    }
    if info.argv.is_empty() {
        return Liveness::Unverified { pid, started: info.started, reason: format!("pid {pid} is alive but its command line cannot be read (another user's process?)") };
    }
    if !is_qemu(&info.argv) {
        return Liveness::Dead(format!("qemu.pid names pid {pid}, which is not QEMU ({})", argv0_name(&info.argv)));
    }
    match pidfile_arg(&info.argv) {
        Some(arg) => {
            let arg_path = Path::new(&arg);
            let resolved = if arg_path.is_absolute() {
                Some(arg_path.to_owned())
            } else {
                info.cwd.as_ref().map(|c| c.join(arg_path))
            };
            match resolved {
                Some(p) if same_file(&p, pidfile) => Liveness::Alive { pid, started: info.started, cmdline_mac, unread: None },
                Some(_) => Liveness::Dead(format!("pid {pid} is a QEMU of another VM (its -pidfile is {arg:?})")),
                None => Liveness::Unverified { pid, started: info.started, reason: format!("pid {pid} is QEMU with a relative -pidfile and an unreadable working directory") },
            }
        }
        None => Liveness::Dead(format!("pid {pid} is a QEMU without -pidfile, not this VM's")),
    }
}

fn argv0_name(argv: &[String]) -> String {
    argv.first().map(|a| Path::new(a).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| a.clone())).unwrap_or_default()
}

fn is_qemu(argv: &[String]) -> bool {
    let name = argv0_name(argv);
    name.starts_with("qemu-system-") || name == "qemu-kvm"
}

/// The value of `-pidfile X`, `-pidfile=X` or `--pidfile X` in argv.
fn pidfile_arg(argv: &[String]) -> Option<String> {
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        for flag in ["-pidfile", "--pidfile"] {
            if a == flag {
                return it.next().cloned();
            }
            if let Some(v) = a.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
                return Some(v.to_owned());
            }
        }
    }
    None
}

/// The NIC MAC in a QEMU command line (`-device virtio-net-pci,mac=...`,
/// `-net nic,macaddr=...`), when exactly one distinct MAC appears.
pub fn cmdline_mac(argv: &[String]) -> Option<MacAddr> {
    let mut found: Option<MacAddr> = None;
    for a in argv {
        for part in a.split(',') {
            let v = part.strip_prefix("mac=").or_else(|| part.strip_prefix("macaddr="));
            if let Some(m) = v.and_then(|v| v.parse::<MacAddr>().ok()) {
                match found {
                    None => found = Some(m),
                    Some(f) if f == m => {}
                    Some(_) => return None,
                }
            }
        }
    }
    found
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
}

/// The real process table: the `sysinfo` crate (`/proc` on Linux, `sysctl`
/// and `proc_pidinfo` on macOS) and `fcntl(F_GETLK)` through `nix`.
#[derive(Debug, Default)]
pub struct OsProcessTable;

impl ProcessTable for OsProcessTable {
    fn process(&self, pid: u32) -> Option<ProcInfo> {
        use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};
        let mut sys = System::new();
        let spid = Pid::from_u32(pid);
        sys.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[spid]),
            true,
            ProcessRefreshKind::nothing().with_cmd(UpdateKind::Always).with_cwd(UpdateKind::Always),
        );
        let p = sys.process(spid)?;
        // sysinfo lists threads of other processes too on Linux: only a real process counts
        if p.thread_kind().is_some_and(|k| k == sysinfo::ThreadKind::Userland) {
            return None;
        }
        // A zombie (killed, not yet reaped by its parent) has released its pidfile lock
        // and its argv; it is not a live QEMU.
        if matches!(p.status(), sysinfo::ProcessStatus::Zombie | sysinfo::ProcessStatus::Dead) {
            return None;
        }
        let argv = p.cmd().iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let kernel_thread = p.thread_kind() == Some(sysinfo::ThreadKind::Kernel);
        Some(ProcInfo { argv, started: p.start_time(), cwd: p.cwd().map(Path::to_owned), kernel_thread })
    }

    fn lock_owner(&self, path: &Path) -> std::io::Result<Option<u32>> {
        let file = File::open(path)?;
        os::lock_owner(&file)
    }
}

#[cfg(unix)]
mod os {
    use std::fs::File;

    /// `fcntl(fd, F_GETLK, {F_WRLCK, whole file})`: who would block a write lock.
    pub fn lock_owner(file: &File) -> std::io::Result<Option<u32>> {
        use nix::fcntl::{fcntl, FcntlArg};
        let mut fl = nix::libc::flock {
            l_type: nix::libc::F_WRLCK as _,
            l_whence: nix::libc::SEEK_SET as _,
            l_start: 0,
            l_len: 0,
            l_pid: 0,
            #[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
            l_sysid: 0,
        };
        fcntl(file, FcntlArg::F_GETLK(&mut fl)).map_err(std::io::Error::from)?;
        #[allow(clippy::unnecessary_cast)] // l_type is i16 on some OSes, i32 on others
        let unlocked = fl.l_type as i32 == nix::libc::F_UNLCK as i32;
        if unlocked {
            return Ok(None);
        }
        Ok(Some(u32::try_from(fl.l_pid).unwrap_or(0)))
    }
}

#[cfg(not(unix))]
mod os {
    pub fn lock_owner(_file: &std::fs::File) -> std::io::Result<Option<u32>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Fake {
        procs: HashMap<u32, ProcInfo>,
        lock: Option<u32>,
    }
    impl ProcessTable for Fake {
        fn process(&self, pid: u32) -> Option<ProcInfo> {
            self.procs.get(&pid).cloned()
        }
        fn lock_owner(&self, _: &Path) -> std::io::Result<Option<u32>> {
            Ok(self.lock)
        }
    }

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn rules() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let pidfile = dir.path().join("qemu.pid");
        let none = Fake { procs: HashMap::new(), lock: None };
        assert_eq!(liveness(&none, &pidfile), Liveness::Dead("no qemu.pid".into()));
        std::fs::write(&pidfile, "junk\n")?;
        assert!(matches!(liveness(&none, &pidfile), Liveness::Dead(d) if d.contains("no pid")));
        std::fs::write(&pidfile, "4242\n")?;
        assert!(matches!(liveness(&none, &pidfile), Liveness::Dead(d) if d.contains("not running")));
        let qemu = ProcInfo { argv: argv(&format!("/usr/bin/qemu-system-x86_64 -device virtio-net-pci,netdev=n0,mac=52:54:00:15:7a:e3 -pidfile {}", pidfile.display())), started: 100, cwd: None, kernel_thread: false };
        let alive = Fake { procs: HashMap::from([(4242, qemu.clone())]), lock: None };
        let mac: MacAddr = "52:54:00:15:7a:e3".parse()?;
        assert_eq!(liveness(&alive, &pidfile), Liveness::Alive { pid: 4242, started: 100, cmdline_mac: Some(mac), unread: None });
        // reused pid: a shell now has it
        let reused = Fake { procs: HashMap::from([(4242, ProcInfo { argv: argv("/bin/bash -l"), started: 200, cwd: None, kernel_thread: false })]), lock: None };
        assert!(matches!(liveness(&reused, &pidfile), Liveness::Dead(d) if d.contains("not QEMU")));
        // another VM's QEMU
        let other = ProcInfo { argv: argv("qemu-system-aarch64 -pidfile /elsewhere/qemu.pid"), started: 1, cwd: None, kernel_thread: false };
        let other = Fake { procs: HashMap::from([(4242, other)]), lock: None };
        assert!(matches!(liveness(&other, &pidfile), Liveness::Dead(d) if d.contains("another VM")));
        // relative -pidfile resolved against cwd
        let rel = ProcInfo { argv: argv("qemu-system-x86_64 -pidfile=qemu.pid"), started: 5, cwd: Some(dir.path().to_owned()), kernel_thread: false };
        let rel = Fake { procs: HashMap::from([(4242, rel)]), lock: None };
        assert!(matches!(liveness(&rel, &pidfile), Liveness::Alive { .. }));
        // lock owner equal to the pid proves it even for an unreadable argv
        let hidden = Fake { procs: HashMap::from([(4242, ProcInfo { argv: vec![], started: 9, cwd: None, kernel_thread: false })]), lock: Some(4242) };
        // Root's QEMU (vmnet on macOS): alive by the lock, and the row says what was not read.
        assert!(matches!(liveness(&hidden, &pidfile), Liveness::Alive { pid: 4242, unread: Some(ref why), .. } if why.contains("cannot be read") && why.contains("lock")));
        let hidden = Fake { procs: HashMap::from([(4242, ProcInfo { argv: vec![], started: 9, cwd: None, kernel_thread: false })]), lock: None };
        assert!(matches!(liveness(&hidden, &pidfile), Liveness::Unverified { .. }));
        // a kernel thread (kworker) has no argv because it has none: stopped, even when it is the lock owner
        let kworker = Fake { procs: HashMap::from([(4242, ProcInfo { argv: vec![], started: 9, cwd: None, kernel_thread: true })]), lock: Some(4242) };
        assert!(matches!(liveness(&kworker, &pidfile), Liveness::Dead(d) if d.contains("kernel thread")));
        Ok(())
    }

    #[test]
    fn a_pidfile_only_another_user_may_read_is_unverified_not_stopped() {
        // QEMU writes its pidfile 0600: root's QEMU (vmnet) leaves one the user cannot open.
        let denied = std::io::Error::from_raw_os_error(13);
        match unreadable_pidfile(&denied, Some(0)) {
            Liveness::Unverified { reason, .. } => {
                assert!(reason.contains("belongs to root") && reason.contains("confirms nothing"), "{reason}");
            }
            other => panic!("an unreadable pidfile is not proof of a stopped VM: {other:?}"),
        }
    }

    #[test]
    fn real_lock_owner_is_reported() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let pidfile = dir.path().join("qemu.pid");
        std::fs::write(&pidfile, "1\n")?;
        assert_eq!(OsProcessTable.lock_owner(&pidfile)?, None);
        // A child process takes an fcntl lock (flock(1) takes BSD locks, so use python's fcntl.lockf)
        let mut child = std::process::Command::new("python3")
            .args(["-c", "import fcntl,sys,time; f=open(sys.argv[1],'r+'); fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(30)"])
            .arg(&pidfile)
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        if let Some(out) = child.stdout.as_mut() {
            use std::io::BufRead;
            std::io::BufReader::new(out).read_line(&mut line)?;
        }
        let owner = OsProcessTable.lock_owner(&pidfile);
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(owner?, Some(child.id()));
        Ok(())
    }

    #[test]
    fn zombie_is_not_alive() -> Result<(), Box<dyn std::error::Error>> {
        // A killed child that nobody reaps stays a zombie: it must not count as running.
        let mut child = std::process::Command::new("sleep").arg("30").spawn()?;
        let pid = child.id();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL)?;
        let t0 = std::time::Instant::now();
        while OsProcessTable.process(pid).is_some() && t0.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let seen = OsProcessTable.process(pid);
        let _ = child.wait();
        assert_eq!(seen, None, "zombie {pid} reported as a process");
        Ok(())
    }

    #[test]
    fn real_process_table_sees_itself() {
        let me = OsProcessTable.process(std::process::id());
        assert!(me.as_ref().is_some_and(|p| !p.argv.is_empty() && p.started > 1_600_000_000), "{me:?}");
        assert_eq!(OsProcessTable.process(4_000_000), None);
    }
}
