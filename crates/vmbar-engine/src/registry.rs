//! `registry.json`, the VM registry shared with the user's own `vm` tool.
//!
//! Shape (only what vmbar reads; every other key is kept as it is):
//!
//! ```json
//! {"vms": {"fargo": {"ip_address": "192.168.1.23", "mac_address": "52:54:00:15:7a:e3",
//!                    "hostname": "fargo", "ssh_user": "ubuntu", "ssh_port": 22, "...": "..."}}}
//! ```
//!
//! Reading never fails the whole refresh: a registry that does not parse is
//! reported in every row's detail. Writing back ([`write_ip`]) changes only
//! the text of one value, `.vms[NAME].ip_address`, so key order, number text,
//! spacing and unknown keys survive byte for byte; it serialises vmbar
//! processes with a lock on the registry's folder, re-reads the file just
//! before an atomic exchange, puts back any version another writer saved
//! in between, and never creates the file or an entry.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::mac::MacAddr;

/// What vmbar reads from one `.vms[NAME]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryEntry {
    /// `ip_address`: the cached IPv4 (a hint only, until confirmed).
    pub ip_address: Option<Ipv4Addr>,
    /// `mac_address`: the VM NIC's MAC.
    pub mac_address: Option<MacAddr>,
    /// `hostname`: the name to resolve in DNS (else the VM's name).
    pub hostname: Option<String>,
    /// `ssh_user`.
    pub ssh_user: Option<String>,
    /// `ssh_port` (number or numeric string), else 22.
    pub ssh_port: Option<u16>,
    /// Values present but unusable (`ip_address: "garbage"`), for the row's detail.
    pub problems: Vec<String>,
}

/// The parsed registry: entries by VM name, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    /// Entries by name.
    pub vms: BTreeMap<String, RegistryEntry>,
}

/// Why the registry could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The file is not JSON (or is being written by another tool right now).
    #[error("{path} does not parse as JSON (line {line}, column {column}): {message}; not written, retried on the next refresh")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde_json's message.
        message: String,
    },
    /// The JSON has no `vms` object at the top level.
    #[error("{0} has no \"vms\" object")]
    NoVms(PathBuf),
    /// The registry kept changing under vmbar while it tried to write.
    #[error("{0} kept changing during write-back; retried on the next refresh")]
    Busy(PathBuf),
    /// Another program held the lock on the registry's folder for longer than
    /// [`LOCK_WAIT`] (a vmbar stuck in a write, or any program that flocks the folder).
    #[error("the folder of {0} stayed locked by another program; not written, retried on a later refresh")]
    Locked(PathBuf),
}

/// Reads and parses the registry. `Ok(None)` when the file does not exist.
///
/// # Errors
/// [`RegistryError::Io`] when it cannot be read, [`RegistryError::Parse`] when
/// it is not JSON, [`RegistryError::NoVms`] when `vms` is missing or not an object.
pub fn read(path: &Path) -> Result<Option<Registry>, RegistryError> {
    let bytes = match read_regular(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RegistryError::Io { path: path.to_owned(), error: e }),
    };
    parse(path, &bytes).map(Some)
}

/// Parses registry bytes (`path` only names the file in errors).
///
/// # Errors
/// As [`read`].
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Registry, RegistryError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| parse_error(path, &e))?;
    let vms = value.get("vms").and_then(Value::as_object).ok_or_else(|| RegistryError::NoVms(path.to_owned()))?;
    let mut out = Registry::default();
    for (name, entry) in vms {
        out.vms.insert(name.clone(), entry_from(entry));
    }
    Ok(out)
}

fn parse_error(path: &Path, e: &serde_json::Error) -> RegistryError {
    RegistryError::Parse { path: path.to_owned(), line: e.line(), column: e.column(), message: e.to_string() }
}

fn entry_from(v: &Value) -> RegistryEntry {
    let mut e = RegistryEntry::default();
    let Some(obj) = v.as_object() else {
        e.problems.push("registry entry is not an object".into());
        return e;
    };
    let text = |key: &str| obj.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    if let Some(ip) = text("ip_address") {
        match ip.parse::<Ipv4Addr>() {
            Ok(a) => e.ip_address = Some(a),
            Err(_) => e.problems.push(format!("registry ip_address {ip:?} is not an IPv4 address")),
        }
    }
    if let Some(m) = text("mac_address") {
        match m.parse::<MacAddr>() {
            Ok(a) => e.mac_address = Some(a),
            Err(err) => e.problems.push(format!("registry mac_address {m:?}: {err}")),
        }
    }
    e.hostname = text("hostname").map(str::to_owned);
    e.ssh_user = text("ssh_user").map(str::to_owned);
    e.ssh_port = match obj.get("ssh_port") {
        Some(Value::Number(n)) => n.as_u64().and_then(|p| u16::try_from(p).ok()).filter(|p| *p != 0),
        Some(Value::String(s)) => s.trim().parse().ok().filter(|p| *p != 0),
        _ => None,
    };
    if obj.get("ssh_port").is_some() && e.ssh_port.is_none() {
        e.problems.push("registry ssh_port is not a port number; using 22".into());
    }
    e
}

/// What [`write_ip`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The value was replaced (or added to the entry) and the new version swapped into place.
    Written,
    /// The file already held this address: nothing written.
    Unchanged,
    /// The file or the entry does not exist: nothing written (vmbar never creates either).
    NoEntry,
}

/// Read-splice-exchange rounds of one [`write_ip`] before [`RegistryError::Busy`].
const ROUNDS: usize = 8;
/// Exchanges per round that put another writer's file back in place.
const SWAPS_BACK: usize = 4;
/// Re-reads (5 ms apart) of a file that another writer is still writing in
/// place, after vmbar put that writer's file back: at most 100 ms in all.
const PARTIAL_WAITS: usize = 20;

/// Writes `ip` to `.vms[name].ip_address` of an existing entry.
///
/// Guarantees (SECURITY.md, item 2): the file always holds one complete
/// version; another writer's version is never discarded by vmbar (within
/// the residual windows SECURITY.md names); nothing but that one value
/// changes; a symlink stays a symlink (its target is written); the file
/// keeps its owner, group and mode; nothing of vmbar's stays beside it.
///
/// Steps:
/// 1. follow `path` to the file itself (symlinks resolved: the link stays);
/// 2. take an exclusive `flock` on the folder holding that file (opened as a
///    directory; serialises every vmbar process, root or user, and leaves no
///    file); remove temporary files a killed vmbar left
///    (`.registry.json.vmbar-tmp-*`) and the sidecar `registry.json.vmbar-lock`
///    of vmbar versions before this one;
/// 3. read the file (regular files only), splice the value into its text;
/// 4. write a temporary file beside it with the file's owner, group and
///    mode, `fsync` it, re-read the file: changed means another writer wrote,
///    and the round starts again on its version;
/// 5. swap the two files atomically ([`exchange`]: Linux
///    `renameat2(RENAME_EXCHANGE)`, macOS `renameatx_np(RENAME_SWAP)`) and
///    read what was displaced. If it is not the version of step 4, another
///    writer saved between the re-read and the swap: by rename (its new
///    file) or in place (the same inode, rewritten, complete or still being
///    written through the descriptor it holds). That file, the inode itself,
///    never a copy of its bytes, is swapped back into place, so a writer
///    still writing finishes in the registry, and the round starts again on
///    its version: vmbar's value is re-applied on top once the version reads
///    as complete JSON. A version that does not parse after such a swap is
///    re-read every 5 ms, up to 20 times, then the [`RegistryError::Parse`]
///    is returned with the other writer's file in place (the swaps back are
///    bounded too: 4 per round);
/// 6. remove the displaced file (a temporary name now), `fsync` the folder.
///
/// Where the file system has no atomic exchange, step 5 is a plain atomic
/// rename (the re-read still protects against all but writers inside the
/// microseconds between step 4 and the rename).
///
/// # Errors
/// [`RegistryError::Parse`] when the registry does not parse (it is never
/// overwritten), [`RegistryError::Io`] on I/O failure (also when the
/// registry's owner cannot be kept: not written), [`RegistryError::Busy`]
/// after 8 rounds disturbed by another writer, [`RegistryError::Locked`] when
/// the folder's lock was not free within [`LOCK_WAIT`].
pub fn write_ip(path: &Path, name: &str, ip: Ipv4Addr) -> Result<WriteOutcome, RegistryError> {
    let io = |e: std::io::Error| RegistryError::Io { path: path.to_owned(), error: e };
    // The file itself: a symlink (or a folder reached through one) stays as it is.
    let target = match std::fs::canonicalize(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(WriteOutcome::NoEntry),
        Err(e) => return Err(io(e)),
    };
    let dir = target.parent().unwrap_or(Path::new("/"));
    let folder = match lock_folder(dir) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Err(RegistryError::Locked(path.to_owned())),
        Err(e) => return Err(io(e)),
    };
    let prefix = temp_prefix(&target);
    // Under the lock no other vmbar is writing: a temporary file with our prefix
    // is a leftover of a vmbar killed (SIGKILL, power loss) during a write-back.
    remove_leftovers(dir, &prefix);
    remove_legacy_lock(path);
    // Another writer was seen during this call: a file that does not parse may
    // be its in-place write in progress, worth a few short waits.
    let mut disturbed = false;
    let mut waits = 0;
    let mut rounds = 0;
    while rounds < ROUNDS {
        let (base, meta) = match read_regular_meta(&target) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(WriteOutcome::NoEntry),
            Err(e) => return Err(io(e)),
        };
        let new_bytes = match spliced(path, &base, name, ip) {
            Ok(Splice::Changed(t)) => t.into_bytes(),
            Ok(Splice::NoEntry) => return Ok(WriteOutcome::NoEntry),
            Ok(Splice::Unchanged) => return Ok(WriteOutcome::Unchanged),
            Err(RegistryError::Parse { .. }) if disturbed && waits < PARTIAL_WAITS => {
                waits += 1;
                std::thread::sleep(std::time::Duration::from_millis(5));
                continue;
            }
            Err(e) => return Err(e),
        };
        rounds += 1;
        let tmp = temp_file_like(dir, &prefix, &meta, &new_bytes).map_err(io)?;
        // The re-read just before the exchange: if another writer wrote
        // meanwhile, splice into its version instead of replacing it.
        if read_regular(&target).map_err(io)? != base {
            disturbed = true;
            continue; // tmp is removed on drop
        }
        match exchange(tmp.path(), &target) {
            Ok(()) => {}
            Err(e) if exchange_unsupported(&e) => {
                tmp.persist(&target).map_err(|e| io(e.error))?;
                let _ = folder.sync_all();
                return Ok(WriteOutcome::Written);
            }
            Err(e) => return Err(io(e)),
        }
        let ours_in_place = put_back_displaced(tmp.path(), &target, base, new_bytes).map_err(io)?;
        drop(tmp); // removes what the last exchange displaced (checked above)
        if ours_in_place {
            let _ = folder.sync_all();
            return Ok(WriteOutcome::Written);
        }
        disturbed = true;
    }
    Err(RegistryError::Busy(path.to_owned()))
}

/// After `exchange(tmp, target)` of vmbar's version `ours` (at `tmp`) with the
/// file last read as `base` (at `target`): checks what the exchange displaced
/// and, while it is not what vmbar believed was at `target`, swaps again, so
/// that the file another writer saved (renamed in, or written in place and
/// maybe still being written) goes back to `target` as the same inode.
/// Returns `true` when `ours` stayed in place, `false` when another writer's
/// file is in place (the caller re-applies its value on top).
///
/// After [`SWAPS_BACK`] swaps that each met yet another version (a writer
/// saving again within microseconds, every time), the file displaced last,
/// the newest save, is renamed into place (the older one there is dropped).
/// On return the file at `tmp`, if any, is one the caller may remove:
/// vmbar's own version, or a version displaced exactly as it had been read.
///
/// # Errors
/// When a swap back or that rename fails.
fn put_back_displaced(tmp: &Path, target: &Path, base: Vec<u8>, ours: Vec<u8>) -> std::io::Result<bool> {
    // What the last exchange should have displaced, and what it put in place.
    let mut expected = base;
    let mut in_place = ours;
    for swap in 0..=SWAPS_BACK {
        let displaced = read_regular(tmp).ok();
        if displaced.as_deref() == Some(expected.as_slice()) {
            return Ok(swap == 0);
        }
        if swap == SWAPS_BACK {
            std::fs::rename(tmp, target)?;
            break;
        }
        exchange(tmp, target)?;
        expected = std::mem::replace(&mut in_place, displaced.unwrap_or_default());
    }
    Ok(false)
}

/// How long a write-back waits for the lock on the registry's folder. A vmbar
/// holds it for one write (milliseconds); any program that can open the folder
/// can also hold it (`flock ~/vms -c ...`, another user), and the refresh that
/// writes back must not wait for that without end.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens the folder holding the registry as a directory and takes an
/// exclusive `flock` on it, waiting at most [`LOCK_WAIT`] for other holders
/// (released when the returned handle is dropped).
///
/// # Errors
/// When the folder cannot be opened or locked; `WouldBlock` when it stayed
/// locked for [`LOCK_WAIT`].
fn lock_folder(dir: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let folder = OpenOptions::new().read(true).custom_flags(nix::libc::O_DIRECTORY).open(dir)?;
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match folder.try_lock() {
            Ok(()) => return Ok(folder),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => std::thread::sleep(std::time::Duration::from_millis(2)),
            Err(std::fs::TryLockError::WouldBlock) => return Err(std::io::ErrorKind::WouldBlock.into()),
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

/// A temporary file in `dir` holding `bytes`, with the owner, group and
/// permission bits of `like`, `fsync`ed.
///
/// # Errors
/// When it cannot be created or written, or the owner cannot be given (a
/// user's vmbar writing a registry another user owns): nothing is written then.
fn temp_file_like(dir: &Path, prefix: &std::ffi::OsStr, like: &std::fs::Metadata, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::MetadataExt;
    let mut tmp = tempfile::Builder::new().prefix(prefix).tempfile_in(dir)?;
    let mine = tmp.as_file().metadata()?;
    if (mine.uid(), mine.gid()) != (like.uid(), like.gid()) {
        std::os::unix::fs::fchown(tmp.as_file(), Some(like.uid()), Some(like.gid()))?;
    }
    // After the chown, which clears set-id bits.
    tmp.as_file().set_permissions(like.permissions())?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// Splices `ip` into registry bytes, refusing what [`read`] rejects (not
/// UTF-8, not JSON, nested deeper than serde_json's 128 levels, which the
/// splice alone would skip over).
fn spliced(path: &Path, base: &[u8], name: &str, ip: Ipv4Addr) -> Result<Splice, RegistryError> {
    let text = std::str::from_utf8(base).map_err(|e| RegistryError::Parse {
        path: path.to_owned(),
        line: 0,
        column: e.valid_up_to(),
        message: "not UTF-8".into(),
    })?;
    if let Err(e @ RegistryError::Parse { .. }) = parse(path, base) {
        return Err(e);
    }
    splice_ip(text, name, ip).map_err(|e| parse_error(path, &e))
}

/// Atomically swaps the files at `a` and `b`: each name then holds the
/// other's file (inode), and no moment exists where either is missing.
///
/// Linux with glibc: `renameat2(RENAME_EXCHANGE)` (kernel 3.15+; through
/// `nix`, i.e. glibc's `renameat2`, the call the tests' `LD_PRELOAD` shim
/// interposes). macOS: `renameatx_np(RENAME_SWAP)` (macOS 10.12+, through
/// `rustix::fs::renameat_with` with `RenameFlags::EXCHANGE`, which is
/// `RENAME_SWAP` there; see `<sys/stdio.h>`). Elsewhere: unsupported.
///
/// # Errors
/// The OS error; [`exchange_unsupported`] tells the ones that mean "no atomic
/// exchange on this OS or file system".
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
        renameat2(AT_FDCWD, a, AT_FDCWD, b, RenameFlags::RENAME_EXCHANGE).map_err(std::io::Error::from)
    }
    #[cfg(target_vendor = "apple")]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
    }
    #[cfg(not(any(all(target_os = "linux", target_env = "gnu"), target_vendor = "apple")))]
    {
        let _ = (a, b);
        Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
    }
}

/// Whether an [`exchange`] error means there is no atomic exchange here:
/// `ENOSYS` (no such call), `EINVAL` (Linux: a file system without
/// `RENAME_EXCHANGE`), `ENOTSUP` (macOS: a volume without `RENAME_SWAP`;
/// 45 there, unlike `EOPNOTSUPP`, 102, and std gives it no `ErrorKind`).
fn exchange_unsupported(e: &std::io::Error) -> bool {
    use nix::libc::{EINVAL, ENOSYS, ENOTSUP, EOPNOTSUPP};
    // A list, not a pattern: ENOTSUP and EOPNOTSUPP are one value on Linux.
    e.raw_os_error().is_some_and(|code| [EINVAL, ENOSYS, ENOTSUP, EOPNOTSUPP].contains(&code)) || e.kind() == std::io::ErrorKind::Unsupported
}

/// Reads a regular file; a FIFO, socket or device is an error, never a read
/// that blocks the refresh (opened non-blocking, then checked with fstat).
fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    read_regular_meta(path).map(|(bytes, _)| bytes)
}

/// [`read_regular`], with the file's metadata (fstat of the descriptor read).
fn read_regular_meta(path: &Path) -> std::io::Result<(Vec<u8>, std::fs::Metadata)> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = OpenOptions::new().read(true).custom_flags(nix::libc::O_NONBLOCK).open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > MAX_REGISTRY_BYTES {
        return Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, "larger than 64 MiB: not read"));
    }
    let mut out = Vec::new();
    f.read_to_end(&mut out)?;
    Ok((out, meta))
}

/// The largest registry vmbar reads (64 MiB): a registry of thousands of VMs is
/// a few hundred KiB; anything far larger is not one.
const MAX_REGISTRY_BYTES: u64 = 64 << 20;

/// The prefix of write-back temporary files: `.<registry file name>.vmbar-tmp-`.
fn temp_prefix(path: &Path) -> std::ffi::OsString {
    let mut p = std::ffi::OsString::from(".");
    p.push(path.file_name().unwrap_or("registry.json".as_ref()));
    p.push(".vmbar-tmp-");
    p
}

/// Removes temporary files that a killed vmbar left in `dir` (best effort).
fn remove_leftovers(dir: &Path, prefix: &std::ffi::OsStr) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        if e.file_name().as_encoded_bytes().starts_with(prefix.as_encoded_bytes()) && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Removes `<registry>.vmbar-lock`, the sidecar lock file of vmbar versions
/// that serialised on it, if it is a regular file (best effort).
fn remove_legacy_lock(path: &Path) {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "registry.json".into());
    name.push(".vmbar-lock");
    let legacy = path.with_file_name(name);
    if std::fs::symlink_metadata(&legacy).is_ok_and(|m| m.is_file()) {
        let _ = std::fs::remove_file(legacy);
    }
}

enum Splice {
    NoEntry,
    Unchanged,
    Changed(String),
}

/// Replaces (or adds) `.vms[name].ip_address` in `text`, touching no other byte.
fn splice_ip(text: &str, name: &str, ip: Ipv4Addr) -> Result<Splice, serde_json::Error> {
    let top: IndexMap<String, &RawValue> = serde_json::from_str(text)?;
    let Some(vms_raw) = top.get("vms") else { return Ok(Splice::NoEntry) };
    let Ok(vms) = serde_json::from_str::<IndexMap<String, &RawValue>>(vms_raw.get()) else { return Ok(Splice::NoEntry) };
    let Some(entry_raw) = vms.get(name) else { return Ok(Splice::NoEntry) };
    let Ok(entry) = serde_json::from_str::<IndexMap<String, &RawValue>>(entry_raw.get()) else { return Ok(Splice::NoEntry) };
    let new_value = serde_json::to_string(&ip.to_string())?;
    let base = text.as_ptr() as usize;
    let mut out = String::with_capacity(text.len() + 24);
    if let Some(old) = entry.get("ip_address") {
        if old.get() == new_value {
            return Ok(Splice::Unchanged);
        }
        let start = old.get().as_ptr() as usize - base;
        let end = start + old.get().len();
        out.push_str(&text[..start]);
        out.push_str(&new_value);
        out.push_str(&text[end..]);
    } else {
        // Add the key as the entry's last member, before its closing brace.
        let raw = entry_raw.get();
        let start = raw.as_ptr() as usize - base;
        let close = start + raw.rfind('}').unwrap_or(raw.len().saturating_sub(1));
        let sep = if entry.is_empty() { "" } else { ", " };
        out.push_str(text[..close].trim_end_matches([' ', '\n', '\r', '\t']));
        out.push_str(&format!("{sep}\"ip_address\": {new_value}"));
        let ws_start = text[..close].trim_end_matches([' ', '\n', '\r', '\t']).len();
        out.push_str(&text[ws_start..]);
    }
    Ok(Splice::Changed(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REG: &str = r#"{
  "version": 3,
  "vms": {
    "fargo": {
      "mac_address": "52:54:00:15:7a:e3",
      "ip_address": "192.168.1.23",
      "memory_mb": 4096,
      "ratio": 1.50,
      "hostname": "fargo"
    },
    "brainerd": {"mac_address": "52:54:00:aa:bb:cc", "ssh_port": "2222"}
  },
  "defaults": {"cpus": 2}
}
"#;

    #[test]
    fn reads_entries() -> Result<(), RegistryError> {
        let r = parse(Path::new("r.json"), REG.as_bytes())?;
        let f = &r.vms["fargo"];
        assert_eq!(f.ip_address, Some(Ipv4Addr::new(192, 168, 1, 23)));
        assert_eq!(f.mac_address.map(|m| m.to_string()).as_deref(), Some("52:54:00:15:7a:e3"));
        assert_eq!(r.vms["brainerd"].ssh_port, Some(2222));
        Ok(())
    }

    #[test]
    fn splice_changes_only_the_value() -> Result<(), Box<dyn std::error::Error>> {
        let Splice::Changed(out) = splice_ip(REG, "fargo", Ipv4Addr::new(192, 168, 1, 77))? else { panic!("not changed") };
        assert_eq!(out, REG.replace("192.168.1.23", "192.168.1.77"));
        assert!(matches!(splice_ip(&out, "fargo", Ipv4Addr::new(192, 168, 1, 77))?, Splice::Unchanged));
        assert!(matches!(splice_ip(REG, "nope", Ipv4Addr::new(1, 2, 3, 4))?, Splice::NoEntry));
        Ok(())
    }

    #[test]
    fn splice_adds_a_missing_key_keeping_the_rest() -> Result<(), Box<dyn std::error::Error>> {
        let Splice::Changed(out) = splice_ip(REG, "brainerd", Ipv4Addr::new(10, 0, 0, 9))? else { panic!("not changed") };
        assert!(out.contains(r#"{"mac_address": "52:54:00:aa:bb:cc", "ssh_port": "2222", "ip_address": "10.0.0.9"}"#), "{out}");
        assert!(out.contains("\"ratio\": 1.50"));
        let v: Value = serde_json::from_str(&out)?;
        assert_eq!(v["defaults"]["cpus"], 2);
        let Splice::Changed(out) = splice_ip(r#"{"vms":{"a":{}}}"#, "a", Ipv4Addr::new(10, 0, 0, 9))? else { panic!() };
        assert_eq!(out, r#"{"vms":{"a":{"ip_address": "10.0.0.9"}}}"#);
        Ok(())
    }

    #[test]
    fn write_ip_replaces_atomically_and_never_creates() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("registry.json");
        assert_eq!(write_ip(&path, "fargo", Ipv4Addr::new(1, 2, 3, 4))?, WriteOutcome::NoEntry);
        assert!(!path.exists());
        std::fs::write(&path, REG)?;
        assert_eq!(write_ip(&path, "fargo", Ipv4Addr::new(192, 168, 1, 77))?, WriteOutcome::Written);
        assert_eq!(std::fs::read_to_string(&path)?, REG.replace("192.168.1.23", "192.168.1.77"));
        assert_eq!(write_ip(&path, "ghost", Ipv4Addr::new(1, 2, 3, 4))?, WriteOutcome::NoEntry);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())?.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with(".registry")).collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        Ok(())
    }

    #[test]
    fn exchange_swaps_two_files_and_needs_both() -> Result<(), Box<dyn std::error::Error>> {
        // The one exchange function of Linux and macOS (renameat2 RENAME_EXCHANGE /
        // renameatx_np RENAME_SWAP): each name then holds the other's inode.
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir()?;
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "version A")?;
        std::fs::write(&b, "version B")?;
        let (ino_a, ino_b) = (std::fs::metadata(&a)?.ino(), std::fs::metadata(&b)?.ino());
        exchange(&a, &b)?;
        assert_eq!(std::fs::read_to_string(&a)?, "version B");
        assert_eq!(std::fs::read_to_string(&b)?, "version A");
        assert_eq!((std::fs::metadata(&a)?.ino(), std::fs::metadata(&b)?.ino()), (ino_b, ino_a));
        // Never a plain rename: a missing side is an error and nothing moves.
        let missing = dir.path().join("missing");
        let e = exchange(&a, &missing).err().ok_or("exchange with a missing file succeeded")?;
        assert!(!exchange_unsupported(&e), "{e}");
        for errno in [nix::libc::EINVAL, nix::libc::ENOSYS, nix::libc::ENOTSUP, nix::libc::EOPNOTSUPP] {
            assert!(exchange_unsupported(&std::io::Error::from_raw_os_error(errno)), "errno {errno}");
        }
        assert_eq!(std::fs::read_to_string(&a)?, "version B");
        assert!(!missing.exists());
        Ok(())
    }

    #[test]
    fn leftover_temporary_files_of_a_killed_writer_are_removed() -> Result<(), Box<dyn std::error::Error>> {
        // Regression: a vmbar SIGKILLed between creating its temporary file and the
        // rename left `.registry.json.vmbar-XXXX` in the VMs folder for ever.
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("registry.json");
        std::fs::write(&path, REG)?;
        let stale = dir.path().join(".registry.json.vmbar-tmp-AbC123");
        std::fs::write(&stale, "half a regis")?;
        let unrelated = dir.path().join(".registry.json.swp");
        std::fs::write(&unrelated, "the user's editor")?;
        assert_eq!(write_ip(&path, "fargo", Ipv4Addr::new(192, 168, 1, 78))?, WriteOutcome::Written);
        assert!(!stale.exists(), "leftover temporary file kept");
        assert!(unrelated.exists(), "a file vmbar does not own was removed");
        Ok(())
    }

    #[test]
    fn broken_registry_is_never_overwritten() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("registry.json");
        let half = &REG[..REG.len() / 2];
        std::fs::write(&path, half)?;
        assert!(matches!(write_ip(&path, "fargo", Ipv4Addr::new(1, 2, 3, 4)), Err(RegistryError::Parse { .. })));
        assert_eq!(std::fs::read_to_string(&path)?, half);
        assert!(matches!(read(&path), Err(RegistryError::Parse { .. })));
        Ok(())
    }
}
