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
//! processes with a sidecar lock file, re-reads the file just before the
//! atomic rename, and never creates the file or an entry.

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
    /// The value was replaced (or added to the entry) and the file renamed into place.
    Written,
    /// The file already held this address: nothing written.
    Unchanged,
    /// The file or the entry does not exist: nothing written (vmbar never creates either).
    NoEntry,
}

/// Writes `ip` to `.vms[name].ip_address` of an existing entry.
///
/// Steps: take an exclusive lock on the sidecar `registry.json.vmbar-lock`
/// (serialises vmbar processes; the user's tool takes no lock), read the file,
/// splice the new value into its text (nothing else changes), write a
/// temporary file in the same directory with the original's permissions and
/// `fsync` it, re-read the registry and compare it with what the splice was
/// based on, and only if unchanged swap the temporary file with it
/// (`renameat2(RENAME_EXCHANGE)` on Linux; a plain rename elsewhere). The
/// swapped-out file is read back: if another writer renamed its version in
/// between the re-read and the swap, that version is put back with our value
/// spliced in, instead of being lost. A change seen in the re-read restarts
/// the steps (up to 8 rounds, then [`RegistryError::Busy`]). Temporary files
/// a killed vmbar left (`.registry.json.vmbar-tmp-*`) are removed under the
/// lock. An update of a writer that takes no lock can still be lost when
/// that writer read vmbar's version in the microseconds before it was
/// corrected; `crates/vmbar-cli/tests/registry_race.rs` measures how rarely.
///
/// # Errors
/// [`RegistryError::Parse`] when the registry does not parse (it is never
/// overwritten), [`RegistryError::Io`] on I/O failure, [`RegistryError::Busy`]
/// as above.
pub fn write_ip(path: &Path, name: &str, ip: Ipv4Addr) -> Result<WriteOutcome, RegistryError> {
    let io = |e: std::io::Error| RegistryError::Io { path: path.to_owned(), error: e };
    let lock_path = sidecar_lock(path);
    let lock = OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io)?;
    lock.lock().map_err(io)?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let prefix = temp_prefix(path);
    // Under the lock no other vmbar is writing: a temporary file with our prefix
    // is a leftover of a vmbar killed (SIGKILL, power loss) before its rename.
    remove_leftovers(dir, &prefix);
    // After an exchange that displaced another writer's version: (its bytes, the
    // bytes we put in its place). The next round puts it back with our value.
    let mut carried: Option<(Vec<u8>, Vec<u8>)> = None;
    for _ in 0..8 {
        let restoring = carried.is_some();
        let (base, expected) = match carried.take() {
            Some(c) => c,
            None => {
                let b = match read_regular(path) {
                    Ok(b) => b,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(WriteOutcome::NoEntry),
                    Err(e) => return Err(io(e)),
                };
                (b.clone(), b)
            }
        };
        let new_bytes: Vec<u8> = match spliced(path, &base, name, ip) {
            Ok(Splice::Changed(t)) => t.into_bytes(),
            // Putting back another writer's version: as it is when ours cannot go in.
            _ if restoring => base.clone(),
            Ok(Splice::NoEntry) => return Ok(WriteOutcome::NoEntry),
            Ok(Splice::Unchanged) => return Ok(WriteOutcome::Unchanged),
            Err(e) => return Err(e),
        };
        let mut tmp = tempfile::Builder::new().prefix(&prefix).tempfile_in(dir).map_err(io)?;
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = tmp.as_file().set_permissions(meta.permissions());
        }
        tmp.write_all(&new_bytes).map_err(io)?;
        if !restoring {
            tmp.as_file().sync_all().map_err(io)?;
        } // else: every microsecond counts while our older-based version is in place; synced below
        // The re-read just before the rename: if the other tool wrote meanwhile, redo
        // the splice on its version instead of overwriting it.
        let now = read_regular(path).map_err(io)?;
        if now != expected {
            continue; // tmp is removed on drop
        }
        if exchange(tmp.path(), path).is_ok() {
            // tmp's name now holds the file we displaced. Another writer that renamed
            // its version in between the re-read and the exchange is found here and
            // put back (with our value) in the next round instead of being lost.
            let displaced = read_regular(tmp.path()).map_err(io)?;
            if restoring {
                // The handle is still our file, now at `path`.
                tmp.as_file().sync_all().map_err(io)?;
            }
            drop(tmp); // removes the displaced file
            if displaced != expected {
                carried = Some((displaced, new_bytes));
                continue;
            }
        } else {
            // No atomic exchange here (not Linux, or a file system without it).
            tmp.persist(path).map_err(|e| io(e.error))?;
        }
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        return Ok(WriteOutcome::Written);
    }
    Err(RegistryError::Busy(path.to_owned()))
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

/// Atomically swaps the files at `a` and `b` (`renameat2(RENAME_EXCHANGE)`).
///
/// # Errors
/// Where the OS or the file system has no atomic exchange.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
    renameat2(AT_FDCWD, a, AT_FDCWD, b, RenameFlags::RENAME_EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Reads a regular file; a FIFO, socket or device is an error, never a read
/// that blocks the refresh (opened non-blocking, then checked with fstat).
fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(nix::libc::O_NONBLOCK);
    }
    let mut f = opts.open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > MAX_REGISTRY_BYTES {
        return Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, "larger than 64 MiB: not read"));
    }
    let mut out = Vec::new();
    f.read_to_end(&mut out)?;
    Ok(out)
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

/// The sidecar lock file that serialises vmbar's writers: `<registry>.vmbar-lock`.
pub fn sidecar_lock(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "registry.json".into());
    name.push(".vmbar-lock");
    path.with_file_name(name)
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
