//! What the app knows at any moment (the engine's latest snapshot, the settings, the tray host)
//! and the payload the window renders (`vmbar://state` events and `get_state`).

use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;
use vmbar_engine::config::{Origin, Settings};
use vmbar_engine::VmReport;

use crate::notify_rule::NotifyRule;

/// The command-line choices of this run.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// `--config FILE`.
    pub config_file: Option<PathBuf>,
    /// `--vms-dir DIR`.
    pub vms_dir: Option<PathBuf>,
    /// `--show`: open the window at start and keep it shown (no hiding on focus loss).
    pub pinned: bool,
}

/// The mutable state, behind [`Shared`]'s mutex.
#[derive(Debug)]
pub struct Inner {
    /// The engine's reports of the latest snapshot (the engine's order; views sort by name).
    pub vms: Vec<VmReport>,
    /// The snapshot's error (the VMs folder cannot be read, ...), if any.
    pub error: Option<String>,
    /// When the latest snapshot was taken; `None` before the first one.
    pub at: Option<DateTime<Utc>>,
    /// The settings in force (flags and environment applied).
    pub settings: Settings,
    /// A settings problem to show (the config file does not parse, ...).
    pub settings_error: Option<String>,
    /// Why the tray icon cannot be seen, if so ([`crate::os::tray_host_problem`]).
    pub tray_problem: Option<String>,
    /// Whether the autostart entry exists (the OS's truth, not only the config's key).
    pub open_at_login: bool,
    /// The login item's state as the OS reports it ([`crate::os::login_item`]).
    pub login_item: crate::os::login_item::LoginItemState,
    /// The programs the app runs, as last looked up (at start and when the window asks).
    pub programs: Vec<crate::os::ProgramFound>,
    /// The bundled command-line tool, as last looked up.
    pub cli_bundled: Option<String>,
    /// Folders offered for installing it, as last looked up.
    pub cli_folders: Vec<String>,
    /// The once-per-boot notification memory.
    pub rule: NotifyRule,
    /// The last payload sent to the window, without its `at` (the engine refreshes every
    /// 0.5-5 s; an unchanged state is not re-sent, so the window keeps focus and selection).
    pub last_payload: Option<serde_json::Value>,
    /// The last tray menu, icon status and tooltip set (rebuilding an unchanged menu would close
    /// an open menu on macOS and churn dbusmenu on Linux).
    pub last_tray: Option<(crate::menu_model::MenuModel, Option<vmbar_engine::Status>, String)>,
}

/// The app's shared state (Tauri managed state).
#[derive(Debug)]
pub struct Shared {
    /// This run's options.
    pub opts: StartOptions,
    /// Everything that changes.
    pub inner: Mutex<Inner>,
}

impl Shared {
    /// Locks the state; a poisoned lock (a panic elsewhere) is taken over rather than propagated,
    /// since every field stays valid on its own.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One settings value as the form shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Field<T> {
    /// The value in force.
    pub value: T,
    /// The flag or variable that overrides the file for this run (`--vms-dir`, `VMBAR_VMS_DIR`),
    /// or `None`.
    pub overridden_by: Option<String>,
}

/// The settings form's content.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SettingsView {
    /// The VMs folder.
    pub vms_dir: Field<String>,
    /// The registry file: the one file vmbar writes (each confirmed address), shown in the form.
    pub registry: Field<String>,
    /// True when that file lies outside the VMs folder (saved only after the user confirmed it,
    /// or written so by hand into the config file).
    pub registry_outside_vms_dir: bool,
    /// The default ssh user, `None` for none.
    pub ssh_user: Field<Option<String>>,
    /// Desktop notifications on or off.
    pub notifications: Field<bool>,
    /// Open at login (the autostart entry's existence).
    pub open_at_login: Field<bool>,
    /// The config file the form writes to.
    pub config_path: String,
}

/// The flag or variable name for a key overridden by `origin`, or `None` for file/default.
pub fn override_name(key: &str, origin: Option<&Origin>) -> Option<String> {
    match (key, origin) {
        ("vms_dir", Some(Origin::Flag)) => Some("--vms-dir".into()),
        ("vms_dir", Some(Origin::Env)) => Some("VMBAR_VMS_DIR".into()),
        (k, Some(Origin::Flag)) => Some(format!("a command-line flag ({k})")),
        (k, Some(Origin::Env)) => Some(format!("an environment variable ({k})")),
        _ => None,
    }
}

/// The form's view of `settings`; `open_at_login` is the autostart entry's real state.
pub fn settings_view(settings: &Settings, open_at_login: bool) -> SettingsView {
    let f = |key: &str| override_name(key, settings.origins.get(key));
    SettingsView {
        vms_dir: Field { value: settings.vms_dir.display().to_string(), overridden_by: f("vms_dir") },
        registry: Field { value: settings.registry.display().to_string(), overridden_by: f("registry") },
        registry_outside_vms_dir: !crate::commands::is_inside(&settings.vms_dir, &settings.registry),
        ssh_user: Field { value: settings.ssh_user.clone(), overridden_by: f("ssh_user") },
        notifications: Field { value: settings.notifications, overridden_by: f("notifications") },
        open_at_login: Field { value: open_at_login, overridden_by: None },
        config_path: settings.config_path.display().to_string(),
    }
}

/// One VM as the window gets it: the engine's report plus its ssh command.
#[derive(Debug, Clone, Serialize)]
pub struct UiVm {
    /// The engine's report, flattened (same keys as `vmbar status --json`).
    #[serde(flatten)]
    pub report: VmReport,
    /// `ssh [-p PORT] USER@IP` (engine quoting), `None` without a confirmed IPv4.
    pub ssh_command: Option<String>,
}

/// Everything the window renders.
#[derive(Debug, Clone, Serialize)]
pub struct UiState {
    /// The VMs.
    pub vms: Vec<UiVm>,
    /// The snapshot's or the settings' error.
    pub error: Option<String>,
    /// When the snapshot was taken (RFC 3339), `None` before the first.
    pub at: Option<DateTime<Utc>>,
    /// The VMs folder in force.
    pub vms_dir: String,
    /// Whether that folder exists (the window says so when it does not).
    pub vms_dir_exists: bool,
    /// Why the tray icon cannot be seen, if so.
    pub tray_problem: Option<String>,
    /// The settings form.
    pub settings: SettingsView,
    /// `--show` was given (the window stays shown).
    pub pinned: bool,
    /// What settings shows of the system: how vmbar opens at login, the programs it runs.
    pub system: SystemView,
}

/// What the settings view shows of the system around vmbar.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SystemView {
    /// How vmbar opens at login and where the user sees it ([`crate::os::login_item::describe`]).
    pub login_item: String,
    /// The login item waits for the user's approval in System Settings (macOS 13+).
    pub login_item_needs_approval: bool,
    /// The programs found where a login shell would find them (`ssh`, the terminal).
    pub programs: Vec<crate::os::ProgramFound>,
    /// The command-line tool this app carries (absolute path), `None` when it carries none.
    pub cli_bundled: Option<String>,
    /// Folders offered for "Install command-line tool" (writable, on the login-shell search list).
    pub cli_folders: Vec<String>,
}

/// Builds the window's payload from the state.
pub fn ui_state(inner: &Inner, pinned: bool) -> UiState {
    UiState {
        vms: inner
            .vms
            .iter()
            .map(|r| UiVm { report: r.clone(), ssh_command: vmbar_engine::ssh::ssh_command(r) })
            .collect(),
        error: inner.settings_error.clone().or_else(|| inner.error.clone()),
        at: inner.at,
        vms_dir: inner.settings.vms_dir.display().to_string(),
        vms_dir_exists: inner.settings.vms_dir.is_dir(),
        tray_problem: inner.tray_problem.clone(),
        settings: settings_view(&inner.settings, inner.open_at_login),
        pinned,
        system: SystemView {
            login_item: crate::os::login_item::describe(crate::os::login_item::mechanism(), inner.login_item),
            login_item_needs_approval: inner.login_item == crate::os::login_item::LoginItemState::NeedsApproval,
            programs: inner.programs.clone(),
            cli_bundled: inner.cli_bundled.clone(),
            cli_folders: inner.cli_folders.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::vm;
    use vmbar_engine::Status;

    fn inner(vms: Vec<VmReport>) -> (tempfile::TempDir, Inner) {
        let dir = tempfile::tempdir().unwrap();
        let settings = vmbar_engine::config::load(&vmbar_engine::config::Overrides {
            config_file: Some(dir.path().join("config.toml")),
            vms_dir: Some(dir.path().join("vms")),
        })
        .unwrap();
        let inner = Inner {
            vms,
            error: None,
            at: None,
            settings,
            settings_error: None,
            tray_problem: None,
            open_at_login: false,
            login_item: crate::os::login_item::LoginItemState::Off,
            programs: vec![crate::os::ProgramFound { role: "ssh".into(), path: Some("/usr/bin/ssh".into()) }],
            cli_bundled: None,
            cli_folders: Vec::new(),
            rule: NotifyRule::new(),
            last_payload: None,
            last_tray: None,
        };
        (dir, inner)
    }

    #[test]
    fn ssh_commands_carry_only_portable_users_and_only_confirmed_addresses() {
        let mut odd = vm("odd", Status::Running, Some("10.0.0.5"));
        odd.ssh_user = Some("o'brien".into());
        odd.ssh_port = 2222;
        let mut plain = vm("plain", Status::Booting, Some("10.0.0.6"));
        plain.ssh_user = Some("ubuntu".into());
        let mut cand = vm("cand", Status::Initializing, None);
        cand.candidate = Some(vmbar_engine::Candidate { ipv4: "10.0.0.7".parse().unwrap(), source: vmbar_engine::Source::Registry });
        let (_d, i) = inner(vec![odd, plain, cand, vm("bare", Status::Running, Some("10.0.0.8"))]);
        let ui = ui_state(&i, false);
        let cmds: Vec<Option<&str>> = ui.vms.iter().map(|v| v.ssh_command.as_deref()).collect();
        // "o'brien" is no portable user name: left out (vmbar_engine::ssh::valid_user).
        assert_eq!(cmds, [Some("ssh -p 2222 10.0.0.5"), Some("ssh ubuntu@10.0.0.6"), None, Some("ssh 10.0.0.8")]);
        assert!(!ui.vms_dir_exists, "the temp VMs folder was never created");
        let json = serde_json::to_value(&ui).unwrap();
        assert_eq!(json["vms"][0]["name"], "odd");
        assert_eq!(json["settings"]["vms_dir"]["overridden_by"], "--vms-dir");
    }

    #[test]
    fn override_names_follow_the_origin() {
        assert_eq!(override_name("vms_dir", Some(&Origin::Flag)).as_deref(), Some("--vms-dir"));
        assert_eq!(override_name("vms_dir", Some(&Origin::Env)).as_deref(), Some("VMBAR_VMS_DIR"));
        assert_eq!(override_name("vms_dir", Some(&Origin::File)), None);
        assert_eq!(override_name("ssh_user", None), None);
    }
}
