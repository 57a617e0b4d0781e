//! The commands the window may call (each granted by name in `capabilities/main-window.json`).
//! They take VM names, never addresses or text to copy: the app looks the VM up and copies only
//! what the engine confirmed.

use serde::Deserialize;
use tauri::{AppHandle, Manager, State, WebviewWindow};

use std::path::{Component, Path, PathBuf};

use vmbar_engine::config::Settings;

use crate::error::AppError;
use crate::state::{ui_state, Shared, UiState};

/// The window's state (VMs, settings, tray problem).
#[tauri::command]
pub fn get_state(shared: State<'_, Shared>) -> UiState {
    // The window asks when it opens: look the programs up again (the user may have installed one).
    let programs = crate::os::programs_found();
    let folders = crate::cli_install::install_folders();
    let bundled = crate::cli_install::bundled_cli().map(|p| p.display().to_string());
    let mut inner = shared.lock();
    inner.programs = programs;
    inner.cli_folders = folders;
    inner.cli_bundled = bundled;
    ui_state(&inner, shared.opts.pinned)
}

/// Copies the VM's confirmed IPv4; returns the text copied.
#[tauri::command]
pub fn copy_ip(app: AppHandle, name: String) -> Result<String, AppError> {
    crate::actions::copy_ip(&app, &name)
}

/// Copies the VM's ssh command; returns the text copied.
#[tauri::command]
pub fn copy_ssh(app: AppHandle, name: String) -> Result<String, AppError> {
    crate::actions::copy_ssh(&app, &name)
}

/// Opens a terminal running ssh to the VM.
#[tauri::command]
pub fn open_ssh(app: AppHandle, name: String) -> Result<(), AppError> {
    crate::actions::open_ssh(&app, &name)
}

/// Asks the engine for a refresh now.
#[tauri::command]
pub fn refresh_now(app: AppHandle) {
    crate::engine::refresh_now(&app);
}

/// The settings form as submitted.
#[derive(Debug, Clone, Deserialize)]
pub struct SettingsForm {
    /// The VMs folder (absolute, or starting with `~/`).
    pub vms_dir: String,
    /// The registry file.
    pub registry: String,
    /// The default ssh user; `None` or empty for none.
    pub ssh_user: Option<String>,
    /// Notifications on or off.
    pub notifications: bool,
    /// Open at login.
    pub open_at_login: bool,
    /// The user confirmed that vmbar may write a registry file outside the VMs folder (the form
    /// shows this choice only after a save was refused for it).
    #[serde(default)]
    pub registry_outside_vms_dir_confirmed: bool,
}

/// A valid default ssh user: the engine's rule ([`vmbar_engine::ssh::valid_user`]: 1-64 bytes of
/// `A-Za-z0-9._-@`, not starting with `-`), so the form, the config file and the report agree.
pub fn valid_ssh_user(user: &str) -> bool {
    vmbar_engine::ssh::valid_user(user)
}

/// Writes the changed settings into the config file (comments and unknown keys kept), reloads
/// them, reconfigures the engine and returns the new window state. A registry file outside the
/// VMs folder is saved only when the form says the user confirmed it ([`check_registry_place`]).
///
/// # Errors
/// [`AppError::Settings`] for an invalid value or a config file that cannot be written;
/// [`AppError::RegistryOutsideVmsDir`] (nothing written) for an unconfirmed registry outside the
/// VMs folder.
#[tauri::command]
pub fn save_settings(app: AppHandle, settings: SettingsForm) -> Result<UiState, AppError> {
    let shared = app.state::<Shared>();
    let (current, login_now) = {
        let inner = shared.lock();
        (crate::state::settings_view(&inner.settings, inner.open_at_login), inner.open_at_login)
    };
    let edit = edit_from_form(&current, &settings)?;
    let (path, before) = {
        let inner = shared.lock();
        (inner.settings.config_path.clone(), inner.settings.clone())
    };
    // What the saved file would make vmbar do, checked before anything is written.
    let after = vmbar_engine::config::preview(&crate::engine::overrides(&shared.opts), &edit).map_err(|e| AppError::Settings(e.to_string()))?;
    check_registry_place(&before, &after, settings.registry_outside_vms_dir_confirmed)?;
    vmbar_engine::config::save(&path, &edit).map_err(|e| AppError::Settings(e.to_string()))?;
    if settings.open_at_login != login_now {
        crate::actions::set_open_at_login(&app, settings.open_at_login)?;
    }
    crate::engine::reload_settings(&app)?;
    let inner = shared.lock();
    Ok(ui_state(&inner, shared.opts.pinned))
}

/// The config change for a submitted form: only the keys whose value differs from what is shown
/// (so an untouched default registry path is not frozen into the file).
///
/// # Errors
/// [`AppError::Settings`] for an empty folder or file, or an invalid ssh user.
pub fn edit_from_form(current: &crate::state::SettingsView, form: &SettingsForm) -> Result<vmbar_engine::config::SettingsEdit, AppError> {
    let vms_dir = form.vms_dir.trim();
    let registry = form.registry.trim();
    let user = form.ssh_user.as_deref().map(str::trim).unwrap_or("");
    if vms_dir.is_empty() || registry.is_empty() {
        return Err(AppError::Settings("the VMs folder and the registry file cannot be empty".into()));
    }
    if vms_dir.contains('\0') || registry.contains('\0') {
        return Err(AppError::Settings("paths cannot contain NUL".into()));
    }
    if !user.is_empty() && !valid_ssh_user(user) {
        return Err(AppError::Settings(format!("invalid ssh user {user:?} (letters, digits, . _ - @ only, at most 64 bytes, not starting with -)")));
    }
    let changed = |new: &str, old: &str| (new != old).then(|| new.to_string());
    Ok(vmbar_engine::config::SettingsEdit {
        vms_dir: changed(vms_dir, &current.vms_dir.value),
        registry: changed(registry, &current.registry.value),
        ssh_user: changed(user, current.ssh_user.value.as_deref().unwrap_or("")),
        notifications: (form.notifications != current.notifications.value).then_some(form.notifications),
        open_at_login: None, // written by set_open_at_login with the entry's real state
    })
}

/// Whether the settings change from `before` to `after` may be saved as far as the registry file
/// goes. vmbar edits the registry (it writes each confirmed address into it), so a registry that
/// would lie outside the VMs folder ([`is_inside`]) needs the user's explicit confirmation: asked
/// when the registry file changes, or when it was inside before. A registry already outside and
/// left as it is (a hand-written config) is not asked about again.
///
/// # Errors
/// [`AppError::RegistryOutsideVmsDir`] naming both paths, when confirmation is needed and not given.
pub fn check_registry_place(before: &Settings, after: &Settings, confirmed: bool) -> Result<(), AppError> {
    if confirmed || is_inside(&after.vms_dir, &after.registry) {
        return Ok(());
    }
    if after.registry == before.registry && !is_inside(&before.vms_dir, &before.registry) {
        return Ok(());
    }
    Err(AppError::RegistryOutsideVmsDir(format!(
        "The registry file {} is outside the VMs folder {}. vmbar edits this file (it writes each confirmed address into it): confirm that it may, or choose a file inside the VMs folder.",
        after.registry.display(),
        after.vms_dir.display()
    )))
}

/// True when `file` lies inside the folder `dir` (and is not `dir` itself), compared after
/// resolving `.` and `..` and, for the part of each path that exists, symbolic links: a link
/// inside the folder to a folder outside it is outside.
pub fn is_inside(dir: &Path, file: &Path) -> bool {
    let (dir, file) = (resolved(dir), resolved(file));
    file != dir && file.starts_with(&dir)
}

/// `p` as the kernel would resolve it: its longest existing prefix canonicalized as written (links
/// resolved, and `..` after a link taken on disk: `vms/link/..` is the parent of the link's
/// target, not `vms`), then the rest without `.`/`..` components.
fn resolved(p: &Path) -> PathBuf {
    let parts: Vec<Component<'_>> = p.components().collect();
    for n in (1..=parts.len()).rev() {
        let head: PathBuf = parts[..n].iter().collect();
        if let Ok(real) = std::fs::canonicalize(&head) {
            return lexical(real, &parts[n..]);
        }
    }
    lexical(PathBuf::new(), &parts)
}

/// `base` with `parts` appended, `.` dropped and `..` taking off the last component.
fn lexical(mut base: PathBuf, parts: &[Component<'_>]) -> PathBuf {
    for c in parts {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                base.pop();
            }
            other => base.push(other),
        }
    }
    base
}

/// Turns open at login on or off; returns the autostart entry's state afterwards.
#[tauri::command]
pub fn set_open_at_login(app: AppHandle, enabled: bool) -> Result<bool, AppError> {
    crate::actions::set_open_at_login(&app, enabled)
}

/// Hides the window (Escape), unless `--show` pinned it.
#[tauri::command]
pub fn hide_window(window: WebviewWindow, shared: State<'_, Shared>) {
    if !shared.opts.pinned {
        let _ = window.hide();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Field, SettingsView};

    fn view() -> SettingsView {
        let f = |v: &str| Field { value: v.to_string(), overridden_by: None };
        SettingsView {
            vms_dir: f("/home/u/vms"),
            registry: f("/home/u/vms/registry.json"),
            registry_outside_vms_dir: false,
            ssh_user: Field { value: None, overridden_by: None },
            notifications: Field { value: true, overridden_by: None },
            open_at_login: Field { value: false, overridden_by: None },
            config_path: "/home/u/.config/vmbar/config.toml".into(),
        }
    }

    fn form(vms: &str, reg: &str, user: Option<&str>, notif: bool) -> SettingsForm {
        SettingsForm { vms_dir: vms.into(), registry: reg.into(), ssh_user: user.map(Into::into), notifications: notif, open_at_login: false, registry_outside_vms_dir_confirmed: false }
    }

    fn settings(vms: &std::path::Path, registry: &std::path::Path) -> Settings {
        let o = vmbar_engine::config::Overrides { config_file: Some(vms.join("absent.toml")), vms_dir: Some(vms.to_owned()) };
        let mut s = vmbar_engine::config::load(&o).unwrap();
        s.registry = registry.to_owned();
        s
    }

    #[test]
    fn a_registry_outside_the_vms_folder_needs_confirmation() {
        let tmp = tempfile::tempdir().unwrap();
        let vms = tmp.path().join("vms");
        std::fs::create_dir_all(vms.join("sub")).unwrap();
        let before = settings(&vms, &vms.join("registry.json"));
        let outside = tmp.path().join("dotfiles/settings.json");
        for bad in [outside.clone(), vms.join("../dotfiles/settings.json"), vms.clone()] {
            let after = settings(&vms, &bad);
            let err = check_registry_place(&before, &after, false).err();
            assert!(matches!(err, Some(AppError::RegistryOutsideVmsDir(_))), "{} was accepted without confirmation", bad.display());
            assert!(check_registry_place(&before, &after, true).is_ok(), "{}", bad.display());
        }
        // A link inside the VMs folder to a folder outside it is outside.
        std::os::unix::fs::symlink(tmp.path(), vms.join("link")).unwrap();
        assert!(check_registry_place(&before, &settings(&vms, &vms.join("link/r.json")), false).is_err());
        // Inside (also a file not created yet, in a subfolder) needs nothing.
        for ok in [vms.join("registry.json"), vms.join("sub/registry.json"), vms.join("./sub/../other.json")] {
            assert!(check_registry_place(&before, &settings(&vms, &ok), false).is_ok(), "{}", ok.display());
        }
        // An outside registry already in force (hand-written config) does not nag on other changes.
        let already = settings(&vms, &outside);
        assert!(check_registry_place(&already, &already, false).is_ok());
    }

    #[test]
    fn a_registry_reached_by_dotdot_through_a_link_is_outside() {
        // `vms/link/..` is the parent of the link's target for the kernel (what vmbar writes), not
        // `vms`: `..` after a link is resolved on disk, not by dropping the link's name.
        let tmp = tempfile::tempdir().unwrap();
        let vms = tmp.path().join("vms");
        let deep = tmp.path().join("dotfiles/deep");
        std::fs::create_dir_all(&vms).unwrap();
        std::fs::create_dir_all(&deep).unwrap();
        std::os::unix::fs::symlink(&deep, vms.join("link")).unwrap();
        let before = settings(&vms, &vms.join("registry.json"));
        let sneaky = vms.join("link/../settings.json");
        std::fs::write(tmp.path().join("dotfiles/settings.json"), "{}").unwrap();
        assert_eq!(std::fs::canonicalize(&sneaky).unwrap(), std::fs::canonicalize(tmp.path().join("dotfiles/settings.json")).unwrap());
        assert!(!is_inside(&vms, &sneaky), "{} is the file outside", sneaky.display());
        let err = check_registry_place(&before, &settings(&vms, &sneaky), false).err();
        assert!(matches!(err, Some(AppError::RegistryOutsideVmsDir(_))), "{} was accepted without confirmation", sneaky.display());
        // Not created yet: the same.
        assert!(!is_inside(&vms, &vms.join("link/../new.json")));
        assert!(!is_inside(&vms, &vms.join("link/nothing/../../new.json")));
        // A link to a folder inside stays inside; a missing subfolder's `..` stays lexical.
        std::fs::create_dir_all(vms.join("sub/deeper")).unwrap();
        std::os::unix::fs::symlink(vms.join("sub/deeper"), vms.join("inlink")).unwrap();
        assert!(is_inside(&vms, &vms.join("inlink/../r.json")));
        assert!(is_inside(&vms, &vms.join("missing/../r.json")));
    }

    #[test]
    fn only_changed_keys_are_written() {
        let e = edit_from_form(&view(), &form("/home/u/vms", "/home/u/vms/registry.json", None, true)).unwrap();
        assert_eq!(e, Default::default());
        let e = edit_from_form(&view(), &form("/srv/vms ", "/home/u/vms/registry.json", Some("ubuntu"), false)).unwrap();
        assert_eq!(e.vms_dir.as_deref(), Some("/srv/vms"));
        assert_eq!(e.registry, None);
        assert_eq!(e.ssh_user.as_deref(), Some("ubuntu"));
        assert_eq!(e.notifications, Some(false));
    }

    #[test]
    fn clearing_the_user_writes_an_empty_string_and_bad_values_are_refused() {
        let mut v = view();
        v.ssh_user.value = Some("ubuntu".into());
        let e = edit_from_form(&v, &form("/home/u/vms", "/home/u/vms/registry.json", Some(""), true)).unwrap();
        assert_eq!(e.ssh_user.as_deref(), Some(""));
        assert!(edit_from_form(&v, &form("", "/r", None, true)).is_err());
        for bad in ["a b", "x'y", "-oProxyCommand=sh", "$(id)", "x\u{15}y", "\\'"] {
            assert!(edit_from_form(&v, &form("/v", "/r", Some(bad), true)).is_err(), "{bad}");
        }
        assert!(valid_ssh_user("ubuntu-22.04_x"));
        assert!(valid_ssh_user("jane@corp.example"), "directory accounts");
    }
}

/// Installs the bundled `vmbar` command-line tool as a link `FOLDER/vmbar` in the folder the
/// user chose ([`crate::cli_install`]); returns the link's path.
///
/// # Errors
/// [`AppError::CliInstall`]: this build carries no CLI, the folder is not an absolute existing
/// folder, `FOLDER/vmbar` exists and is not vmbar's link, or it cannot be written.
#[tauri::command]
pub fn install_cli(folder: String) -> Result<String, AppError> {
    let source = crate::cli_install::bundled_cli()
        .ok_or_else(|| AppError::CliInstall("this copy of vmbar carries no command-line tool (it comes with the macOS app bundle)".into()))?;
    let folder = folder.trim();
    if folder.contains('\0') || folder.len() > 4096 {
        return Err(AppError::CliInstall("invalid folder".into()));
    }
    crate::cli_install::install(std::path::Path::new(folder), &source).map(|p| p.display().to_string()).map_err(AppError::CliInstall)
}
