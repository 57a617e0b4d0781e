//! vmbar's configuration: one function ([`load`]) shared by the CLI and the tray app.
//!
//! File: `$VMBAR_CONFIG`, else `<config dir>/vmbar/config.toml` (`dirs::config_dir()`:
//! `~/Library/Application Support` on macOS, `$XDG_CONFIG_HOME` or `~/.config` on Linux).
//! Precedence for each value: command-line flag > environment (`VMBAR_VMS_DIR`) >
//! file > default. `registry` defaults to `<vms_dir>/registry.json`; relative
//! paths in the file resolve against `vms_dir`.
//!
//! ```toml
//! vms_dir = "~/vms"
//! registry = "registry.json"        # relative to vms_dir
//! ssh_user = "ubuntu"               # last resort for the ssh command (A-Za-z0-9._-@, <= 64 bytes)
//! notifications = true
//! open_at_login = false
//! [sources]                         # all on by default
//! console = true
//! registry = true
//! neighbours = true                 # off: no candidates from it; still confirms
//! dns = true
//! leases = true
//! [leases]
//! paths = ["/var/lib/libvirt/dnsmasq/virbr0.status"]
//! [neighbours]
//! command = ["/usr/sbin/arp", "-an"] # unset by default: Linux reads /proc/net/arp, macOS the NET_RT_FLAGS sysctl (arp -an if that fails)
//! [probe]                           # all in milliseconds
//! ssh_timeout_ms = 1500
//! dns_timeout_ms = 2000
//! command_timeout_ms = 2000
//! interval_fast_ms = 250
//! interval_slow_ms = 5000
//! ssh_recheck_ms = 60000
//! [console]
//! tail_bytes = 16777216             # first read of a console.log starts this many bytes before its end
//! ```
//!
//! A file that does not parse, or a key of the wrong type, is an error
//! ([`ConfigError`]), never silently ignored. [`save`] writes keys back with
//! `toml_edit`, so comments and unknown keys survive.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use toml_edit::{DocumentMut, Item, Value};

/// Values given on the command line (they win over everything).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config FILE`.
    pub config_file: Option<PathBuf>,
    /// `--vms-dir DIR`.
    pub vms_dir: Option<PathBuf>,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The built-in default.
    Default,
    /// The config file.
    File,
    /// An environment variable (`VMBAR_VMS_DIR`, `VMBAR_CONFIG`).
    Env,
    /// A command-line flag.
    Flag,
}

/// Which detection sources may propose candidate addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SourceSwitches {
    /// The console's ci-info table.
    pub console: bool,
    /// The registry's cached `ip_address`.
    pub registry: bool,
    /// The neighbour table by MAC (off removes it as a source, not as the confirmation check).
    pub neighbours: bool,
    /// DNS via the system resolver.
    pub dns: bool,
    /// DHCP lease files.
    pub leases: bool,
}

impl Default for SourceSwitches {
    fn default() -> Self {
        SourceSwitches { console: true, registry: true, neighbours: true, dns: true, leases: true }
    }
}

/// Timeouts and poll intervals, all in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProbeSettings {
    /// One SSH probe (connect and banner), ms.
    pub ssh_timeout_ms: u64,
    /// One DNS lookup, ms.
    pub dns_timeout_ms: u64,
    /// One external command (`arp -an`), ms; it is killed after this.
    pub command_timeout_ms: u64,
    /// Poll interval while any VM is initializing or booting, ms.
    pub interval_fast_ms: u64,
    /// Poll interval otherwise, ms.
    pub interval_slow_ms: u64,
    /// How often a `running` VM's SSH banner is re-checked, ms (rarely: SSH etiquette).
    pub ssh_recheck_ms: u64,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        ProbeSettings { ssh_timeout_ms: 1500, dns_timeout_ms: 2000, command_timeout_ms: 2000, interval_fast_ms: 250, interval_slow_ms: 5000, ssh_recheck_ms: 60_000 }
    }
}

/// The resolved settings every part of vmbar runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// The config file consulted (it may not exist).
    pub config_path: PathBuf,
    /// The VMs folder (`~/vms` by default).
    pub vms_dir: PathBuf,
    /// The registry file (`<vms_dir>/registry.json` by default).
    pub registry: PathBuf,
    /// The ssh user of last resort: trimmed, and a [`crate::ssh::valid_user`] when loaded
    /// from the file (another value is a [`ConfigError::Invalid`]); the engine checks it again
    /// where the report is built, for settings made in code.
    pub ssh_user: Option<String>,
    /// Desktop notifications on/off (tray app).
    pub notifications: bool,
    /// Start the tray app at login.
    pub open_at_login: bool,
    /// Source switches.
    pub sources: SourceSwitches,
    /// Extra DHCP lease files (`[leases] paths`); macOS's `/var/db/dhcpd_leases` is always read when present.
    pub lease_paths: Vec<PathBuf>,
    /// Command printing the neighbour table (`[neighbours] command`), run without a shell.
    pub neighbours_command: Option<Vec<String>>,
    /// Timeouts and intervals.
    pub probe: ProbeSettings,
    /// Bytes read from the end of a console.log on its first read.
    pub console_tail_bytes: u64,
    /// Where each of `vms_dir`, `registry`, `ssh_user`, `notifications`, `open_at_login` came from.
    pub origins: BTreeMap<String, Origin>,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read or written.
    #[error("config file {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// A config file named by `--config` or `$VMBAR_CONFIG` does not exist.
    #[error("config file {0} does not exist (named by --config or VMBAR_CONFIG)")]
    Missing(PathBuf),
    /// The file is larger than 1 MiB: not a config file.
    #[error("config file {0} is larger than 1 MiB")]
    TooLarge(PathBuf),
    /// The file is not valid TOML.
    #[error("config file {path} does not parse: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml_edit's message with line and column.
        message: String,
    },
    /// A key has the wrong type or an impossible value.
    #[error("config file {path}: {key}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// No home directory to put the defaults in.
    #[error("no home or config directory found; pass --vms-dir and --config")]
    NoHome,
}

/// The config file path: `overrides.config_file`, else `$VMBAR_CONFIG`, else the default.
///
/// # Errors
/// [`ConfigError::NoHome`] when there is no config directory.
pub fn config_path(overrides: &Overrides) -> Result<(PathBuf, Origin), ConfigError> {
    if let Some(p) = &overrides.config_file {
        return Ok((p.clone(), Origin::Flag));
    }
    if let Some(p) = std::env::var_os("VMBAR_CONFIG").filter(|v| !v.is_empty()) {
        return Ok((PathBuf::from(p), Origin::Env));
    }
    let dir = dirs::config_dir().ok_or(ConfigError::NoHome)?;
    Ok((dir.join("vmbar").join("config.toml"), Origin::Default))
}

/// Loads the settings: flags > environment > file > defaults.
///
/// # Errors
/// [`ConfigError`] when the file cannot be read, does not parse, or holds a
/// value of the wrong type. A missing file is not an error.
pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
    let (path, _) = config_path(overrides)?;
    let doc = match read_small(&path) {
        Ok(t) => t.parse::<DocumentMut>().map_err(|e| ConfigError::Parse { path: path.clone(), message: e.to_string() })?,
        // A missing file means the defaults (the tray app creates it on the first save);
        // the CLI insists on a file the user named: see [`load_existing`].
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DocumentMut::new(),
        Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => return Err(ConfigError::TooLarge(path)),
        Err(e) => return Err(ConfigError::Io { path, error: e }),
    };
    for key in unknown_keys(&doc) {
        tracing::warn!("config file {}: unknown key {key} (ignored)", path.display());
    }
    from_document(&doc, path, overrides)
}

/// As [`load`], but a config file named by `--config` or `$VMBAR_CONFIG` must
/// exist: a typo in its name would otherwise silently run with the defaults
/// (the CLI uses this).
///
/// # Errors
/// [`ConfigError::Missing`] for a named file that does not exist; else as [`load`].
pub fn load_existing(overrides: &Overrides) -> Result<Settings, ConfigError> {
    let (path, origin) = config_path(overrides)?;
    if origin != Origin::Default && !path.exists() {
        return Err(ConfigError::Missing(path));
    }
    load(overrides)
}

/// Reads a config file of at most 1 MiB (`/dev/zero` is refused, not read forever).
fn read_small(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    if f.metadata()?.is_dir() {
        return Err(std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"));
    }
    let mut text = String::new();
    f.take(1 << 20 | 1).read_to_string(&mut text)?;
    if text.len() > 1 << 20 {
        return Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, "larger than 1 MiB"));
    }
    Ok(text)
}

/// Keys vmbar does not know (typos such as `vms_dirr`), as dotted names.
fn unknown_keys(doc: &DocumentMut) -> Vec<String> {
    const TOP: &[&str] = &["vms_dir", "registry", "ssh_user", "notifications", "open_at_login", "sources", "leases", "neighbours", "probe", "console"];
    const TABLES: &[(&str, &[&str])] = &[
        ("sources", &["console", "registry", "neighbours", "dns", "leases"]),
        ("leases", &["paths"]),
        ("neighbours", &["command"]),
        ("probe", &["ssh_timeout_ms", "dns_timeout_ms", "command_timeout_ms", "interval_fast_ms", "interval_slow_ms", "ssh_recheck_ms"]),
        ("console", &["tail_bytes"]),
    ];
    let mut out = Vec::new();
    for (k, item) in doc.iter() {
        if !TOP.contains(&k) {
            out.push(k.to_owned());
            continue;
        }
        if let (Some((_, known)), Some(t)) = (TABLES.iter().find(|(n, _)| *n == k), item.as_table_like()) {
            for (sub, _) in t.iter() {
                if !known.contains(&sub) {
                    out.push(format!("{k}.{sub}"));
                }
            }
        }
    }
    out
}

fn from_document(doc: &DocumentMut, path: PathBuf, overrides: &Overrides) -> Result<Settings, ConfigError> {
    let r = Reader { doc, path: &path };
    let mut origins = BTreeMap::new();
    let home = dirs::home_dir();

    let file_vms = r.string(&["vms_dir"])?.map(|s| expand_home(&s, home.as_deref()));
    let env_vms = std::env::var_os("VMBAR_VMS_DIR").filter(|v| !v.is_empty()).map(PathBuf::from);
    let (vms_dir, o) = if let Some(d) = &overrides.vms_dir {
        (d.clone(), Origin::Flag)
    } else if let Some(d) = env_vms {
        (d, Origin::Env)
    } else if let Some(d) = file_vms {
        (d, Origin::File)
    } else {
        (home.as_ref().ok_or(ConfigError::NoHome)?.join("vms"), Origin::Default)
    };
    origins.insert("vms_dir".into(), o);

    let (registry, o) = match r.string(&["registry"])? {
        Some(s) => (vms_dir.join(expand_home(&s, home.as_deref())), Origin::File),
        None => (vms_dir.join("registry.json"), Origin::Default),
    };
    origins.insert("registry".into(), o);

    // The same rule as the report's (`ssh::valid_user`): a user the ssh command could not
    // carry is a clear error here, not a row note on every VM.
    let ssh_user = r.string(&["ssh_user"])?.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if let Some(u) = ssh_user.as_deref().filter(|u| !crate::ssh::valid_user(u)) {
        let message = format!("{u:?} is not a user name (A-Z a-z 0-9 . _ - and @, at most {} bytes, not starting with -)", crate::ssh::MAX_USER_BYTES);
        return Err(ConfigError::Invalid { path, key: "ssh_user".into(), message });
    }
    origins.insert("ssh_user".into(), if ssh_user.is_some() { Origin::File } else { Origin::Default });
    let notifications = r.boolean(&["notifications"])?;
    origins.insert("notifications".into(), if notifications.is_some() { Origin::File } else { Origin::Default });
    let open_at_login = r.boolean(&["open_at_login"])?;
    origins.insert("open_at_login".into(), if open_at_login.is_some() { Origin::File } else { Origin::Default });

    let d = SourceSwitches::default();
    let sources = SourceSwitches {
        console: r.boolean(&["sources", "console"])?.unwrap_or(d.console),
        registry: r.boolean(&["sources", "registry"])?.unwrap_or(d.registry),
        neighbours: r.boolean(&["sources", "neighbours"])?.unwrap_or(d.neighbours),
        dns: r.boolean(&["sources", "dns"])?.unwrap_or(d.dns),
        leases: r.boolean(&["sources", "leases"])?.unwrap_or(d.leases),
    };
    let lease_paths = r.strings(&["leases", "paths"])?.unwrap_or_default().into_iter().map(|s| vms_dir.join(expand_home(&s, home.as_deref()))).collect();
    let neighbours_command = r.strings(&["neighbours", "command"])?;
    if neighbours_command.as_ref().is_some_and(Vec::is_empty) {
        return Err(ConfigError::Invalid { path, key: "neighbours.command".into(), message: "must name a program".into() });
    }
    let p = ProbeSettings::default();
    let probe = ProbeSettings {
        ssh_timeout_ms: r.millis(&["probe", "ssh_timeout_ms"])?.unwrap_or(p.ssh_timeout_ms),
        dns_timeout_ms: r.millis(&["probe", "dns_timeout_ms"])?.unwrap_or(p.dns_timeout_ms),
        command_timeout_ms: r.millis(&["probe", "command_timeout_ms"])?.unwrap_or(p.command_timeout_ms),
        interval_fast_ms: r.millis(&["probe", "interval_fast_ms"])?.unwrap_or(p.interval_fast_ms),
        interval_slow_ms: r.millis(&["probe", "interval_slow_ms"])?.unwrap_or(p.interval_slow_ms),
        ssh_recheck_ms: r.millis(&["probe", "ssh_recheck_ms"])?.unwrap_or(p.ssh_recheck_ms),
    };
    let console_tail_bytes = r.millis(&["console", "tail_bytes"])?.unwrap_or(16 << 20).max(4096);
    Ok(Settings {
        config_path: path.clone(),
        vms_dir,
        registry,
        ssh_user,
        notifications: notifications.unwrap_or(true),
        open_at_login: open_at_login.unwrap_or(false),
        sources,
        lease_paths,
        neighbours_command,
        probe,
        console_tail_bytes,
        origins,
    })
}

fn expand_home(s: &str, home: Option<&Path>) -> PathBuf {
    match (s.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ if s == "~" => home.map(Path::to_owned).unwrap_or_else(|| PathBuf::from(s)),
        _ => PathBuf::from(s),
    }
}

struct Reader<'a> {
    doc: &'a DocumentMut,
    path: &'a Path,
}

impl Reader<'_> {
    fn get(&self, key: &[&str]) -> Option<&Item> {
        let mut item = self.doc.as_item();
        for k in key {
            item = item.get(k)?;
        }
        Some(item)
    }
    fn invalid(&self, key: &[&str], message: &str) -> ConfigError {
        ConfigError::Invalid { path: self.path.to_owned(), key: key.join("."), message: message.into() }
    }
    fn string(&self, key: &[&str]) -> Result<Option<String>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(i) => i.as_str().map(|s| Some(s.to_owned())).ok_or_else(|| self.invalid(key, "expected a string")),
        }
    }
    fn boolean(&self, key: &[&str]) -> Result<Option<bool>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(i) => i.as_bool().map(Some).ok_or_else(|| self.invalid(key, "expected true or false")),
        }
    }
    fn millis(&self, key: &[&str]) -> Result<Option<u64>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(i) => match i.as_integer() {
                Some(n) if n > 0 => Ok(Some(n as u64)),
                _ => Err(self.invalid(key, "expected a positive integer")),
            },
        }
    }
    fn strings(&self, key: &[&str]) -> Result<Option<Vec<String>>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(i) => {
                let arr = i.as_array().ok_or_else(|| self.invalid(key, "expected an array of strings"))?;
                arr.iter().map(|v| v.as_str().map(str::to_owned).ok_or_else(|| self.invalid(key, "expected an array of strings"))).collect::<Result<Vec<_>, _>>().map(Some)
            }
        }
    }
}

/// A change to write into the config file with [`save`]. `None` leaves a key alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, Serialize)]
pub struct SettingsEdit {
    /// New `vms_dir`.
    pub vms_dir: Option<String>,
    /// New `registry` (empty string removes the key: back to the default).
    pub registry: Option<String>,
    /// New `ssh_user` (empty string removes the key).
    pub ssh_user: Option<String>,
    /// New `notifications`.
    pub notifications: Option<bool>,
    /// New `open_at_login`.
    pub open_at_login: Option<bool>,
}

/// Writes `edit` into the config file at `path`, creating it (and its folder)
/// when needed, keeping comments, formatting and unknown keys; the file is
/// replaced atomically.
///
/// # Errors
/// [`ConfigError::Parse`] when the existing file does not parse (it is not
/// overwritten), [`ConfigError::Io`] when it cannot be written.
pub fn save(path: &Path, edit: &SettingsEdit) -> Result<(), ConfigError> {
    let io = |e: std::io::Error| ConfigError::Io { path: path.to_owned(), error: e };
    let mut doc = match std::fs::read_to_string(path) {
        Ok(t) => t.parse::<DocumentMut>().map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DocumentMut::new(),
        Err(e) => return Err(io(e)),
    };
    apply_edit(&mut doc, edit);
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::Builder::new().prefix(".config.toml.").tempfile_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, doc.to_string().as_bytes()).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// The settings [`load`] would return after [`save`] of `edit` into the config file that
/// `overrides` names, without writing anything: what a settings form is about to change (for
/// one, the registry file vmbar would then write).
///
/// # Errors
/// As [`load`] (the file as it is, or the edited value, does not parse or is invalid).
pub fn preview(overrides: &Overrides, edit: &SettingsEdit) -> Result<Settings, ConfigError> {
    let (path, _) = config_path(overrides)?;
    let mut doc = match read_small(&path) {
        Ok(t) => t.parse::<DocumentMut>().map_err(|e| ConfigError::Parse { path: path.clone(), message: e.to_string() })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DocumentMut::new(),
        Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => return Err(ConfigError::TooLarge(path)),
        Err(e) => return Err(ConfigError::Io { path, error: e }),
    };
    apply_edit(&mut doc, edit);
    from_document(&doc, path, overrides)
}

/// `edit` applied to a parsed config file (an empty string removes a text key).
fn apply_edit(doc: &mut DocumentMut, edit: &SettingsEdit) {
    let mut set_str = |key: &str, v: &Option<String>| match v.as_deref() {
        None => {}
        Some("") => {
            doc.remove(key);
        }
        Some(s) => set_value(doc, key, Value::from(s)),
    };
    set_str("vms_dir", &edit.vms_dir);
    set_str("registry", &edit.registry);
    set_str("ssh_user", &edit.ssh_user);
    if let Some(b) = edit.notifications {
        set_value(doc, "notifications", Value::from(b));
    }
    if let Some(b) = edit.open_at_login {
        set_value(doc, "open_at_login", Value::from(b));
    }
}

/// Sets a top-level key, keeping the decoration (comments) of an existing value.
fn set_value(doc: &mut DocumentMut, key: &str, mut value: Value) {
    if let Some(old) = doc.get(key).and_then(Item::as_value) {
        *value.decor_mut() = old.decor().clone();
    }
    doc[key] = Item::Value(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, o: &Overrides) -> Result<Settings, ConfigError> {
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| ConfigError::Parse { path: "t".into(), message: e.to_string() })?;
        from_document(&doc, "t.toml".into(), o)
    }

    #[test]
    fn defaults_and_relative_paths() -> Result<(), ConfigError> {
        let s = load_text("vms_dir = \"/srv/vms\"\nregistry = \"reg/r.json\"\n[sources]\ndns = false\n[leases]\npaths = [\"/var/lib/misc/dnsmasq.leases\", \"rel.leases\"]\n", &Overrides::default())?;
        assert_eq!(s.vms_dir, PathBuf::from("/srv/vms"));
        assert_eq!(s.registry, PathBuf::from("/srv/vms/reg/r.json"));
        assert!(!s.sources.dns && s.sources.console);
        assert_eq!(s.lease_paths, vec![PathBuf::from("/var/lib/misc/dnsmasq.leases"), PathBuf::from("/srv/vms/rel.leases")]);
        assert_eq!(s.origins["vms_dir"], Origin::File);
        assert_eq!(s.probe, ProbeSettings::default());
        Ok(())
    }

    #[test]
    fn flag_wins_over_file() -> Result<(), ConfigError> {
        let o = Overrides { vms_dir: Some("/flag".into()), config_file: None };
        let s = load_text("vms_dir = \"/file\"\n", &o)?;
        assert_eq!(s.vms_dir, PathBuf::from("/flag"));
        assert_eq!(s.registry, PathBuf::from("/flag/registry.json"));
        assert_eq!(s.origins["vms_dir"], Origin::Flag);
        Ok(())
    }

    #[test]
    fn unknown_keys_are_named() -> Result<(), Box<dyn std::error::Error>> {
        let doc: DocumentMut = "vms_dirr = 1\nssh_user = \"u\"\n[sources]\ndsn = false\n[probe]\nssh_timeout_ms = 5\n".parse()?;
        assert_eq!(unknown_keys(&doc), vec!["vms_dirr".to_string(), "sources.dsn".to_string()]);
        Ok(())
    }

    #[test]
    fn a_named_config_file_must_exist_and_be_small() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let o = |p: PathBuf| Overrides { config_file: Some(p), vms_dir: Some("/x".into()) };
        assert!(matches!(load_existing(&o(dir.path().join("typo.toml"))), Err(ConfigError::Missing(_))));
        assert!(load(&o(dir.path().join("typo.toml"))).is_ok(), "the app may start on a file it will create");
        assert!(matches!(load(&o(dir.path().to_owned())), Err(ConfigError::Io { .. })));
        std::fs::write(dir.path().join("big.toml"), "# x\n".repeat(300_000))?;
        assert!(matches!(load(&o(dir.path().join("big.toml"))), Err(ConfigError::TooLarge(_))));
        Ok(())
    }

    #[test]
    fn wrong_types_are_errors() {
        for bad in ["ssh_user = 5", "notifications = \"yes\"", "[sources]\ndns = 1", "[probe]\nssh_timeout_ms = -5", "[leases]\npaths = \"x\"", "vms_dir = 3"] {
            assert!(matches!(load_text(bad, &Overrides { vms_dir: Some("/x".into()), config_file: None }), Err(ConfigError::Invalid { .. })), "{bad}");
        }
    }

    #[test]
    fn ssh_user_outside_the_portable_set_is_an_error() {
        let o = Overrides { vms_dir: Some("/x".into()), config_file: None };
        for bad in ["ssh_user = \"x\\u0015touch /tmp/pwned;#\"", "ssh_user = \"\\\\';touch /tmp/pwned;#\"", "ssh_user = \"a b\"", "ssh_user = \"-oProxyCommand=x\"", "ssh_user = \"$(id)\""] {
            match load_text(bad, &o) {
                Err(ConfigError::Invalid { key, message, .. }) => {
                    assert_eq!(key, "ssh_user");
                    assert!(message.contains("not a user name") && !message.chars().any(char::is_control), "{message}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        for (good, want) in [("ssh_user = \" ubuntu \"", Some("ubuntu")), ("ssh_user = \"jane@corp.example\"", Some("jane@corp.example")), ("ssh_user = \" \"", None)] {
            assert_eq!(load_text(good, &o).map(|s| s.ssh_user).ok(), Some(want.map(str::to_owned)), "{good}");
        }
    }

    #[test]
    fn preview_is_what_save_then_load_gives_and_writes_nothing() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "vms_dir = \"/srv/vms\"\n")?;
        let o = Overrides { config_file: Some(path.clone()), vms_dir: None };
        let edit = SettingsEdit { registry: Some("../elsewhere/reg.json".into()), ..Default::default() };
        let p = preview(&o, &edit)?;
        assert_eq!(p.registry, PathBuf::from("/srv/vms/../elsewhere/reg.json"));
        assert_eq!(std::fs::read_to_string(&path)?, "vms_dir = \"/srv/vms\"\n", "preview wrote the file");
        save(&path, &edit)?;
        assert_eq!(load(&o)?, p);
        let none = Overrides { config_file: Some(dir.path().join("absent.toml")), vms_dir: Some("/v".into()) };
        assert_eq!(preview(&none, &SettingsEdit::default())?.registry, PathBuf::from("/v/registry.json"));
        assert!(matches!(preview(&o, &SettingsEdit { ssh_user: Some("a b".into()), ..Default::default() }), Err(ConfigError::Invalid { .. })));
        Ok(())
    }

    #[test]
    fn save_keeps_comments_and_unknown_keys() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("sub/config.toml");
        std::fs::create_dir_all(dir.path().join("sub"))?;
        std::fs::write(&path, "# my vms\nvms_dir = \"/srv/vms\" # keep me\nfuture_key = 42\n\n[sources]\ndns = false\n")?;
        save(&path, &SettingsEdit { vms_dir: Some("/data/vms".into()), notifications: Some(false), ..Default::default() })?;
        let text = std::fs::read_to_string(&path)?;
        assert!(text.contains("# my vms"), "{text}");
        assert!(text.contains("vms_dir = \"/data/vms\" # keep me"), "{text}");
        assert!(text.contains("future_key = 42"));
        assert!(text.contains("notifications = false"));
        assert!(text.contains("dns = false"));
        std::fs::write(&path, "vms_dir = [")?;
        assert!(matches!(save(&path, &SettingsEdit::default()), Err(ConfigError::Parse { .. })));
        assert_eq!(std::fs::read_to_string(&path)?, "vms_dir = [");
        Ok(())
    }
}
