//! What the app does for a click, from the tray menu or the window: copy, open SSH, refresh,
//! toggle open at login. Every action that names a VM validates the name and looks it up in the
//! engine's latest snapshot; only confirmed addresses are ever copied.

use tauri::{AppHandle, Manager};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_clipboard_manager::ClipboardExt as _;
use vmbar_engine::VmReport;

use crate::error::{validate_name, AppError};
use crate::state::Shared;

/// The report of the VM called `name` in the latest snapshot.
///
/// # Errors
/// [`AppError::InvalidName`], [`AppError::UnknownVm`].
pub fn find_vm(app: &AppHandle, name: &str) -> Result<VmReport, AppError> {
    validate_name(name)?;
    let shared = app.state::<Shared>();
    let inner = shared.lock();
    inner.vms.iter().find(|v| v.name == name).cloned().ok_or_else(|| AppError::UnknownVm(name.chars().take(80).collect()))
}

fn confirmed_ip(vm: &VmReport) -> Result<std::net::Ipv4Addr, AppError> {
    match vm.ipv4 {
        Some(ip) if vm.confirmed => Ok(ip),
        _ => Err(AppError::NoIp(vm.name.clone())),
    }
}

fn write_clipboard(app: &AppHandle, text: String) -> Result<String, AppError> {
    app.clipboard().write_text(text.clone()).map_err(|e| AppError::Clipboard(e.to_string()))?;
    Ok(text)
}

/// Copies the VM's confirmed IPv4 to the clipboard; returns the text copied.
///
/// # Errors
/// Unknown or invalid name, no confirmed IPv4, clipboard failure.
pub fn copy_ip(app: &AppHandle, name: &str) -> Result<String, AppError> {
    let vm = find_vm(app, name)?;
    let ip = confirmed_ip(&vm)?;
    write_clipboard(app, ip.to_string())
}

/// Copies the VM's ssh command (the engine's quoting) to the clipboard; returns the text copied.
///
/// # Errors
/// Unknown or invalid name, no confirmed IPv4, clipboard failure.
pub fn copy_ssh(app: &AppHandle, name: &str) -> Result<String, AppError> {
    let vm = find_vm(app, name)?;
    confirmed_ip(&vm)?;
    let cmd = vmbar_engine::ssh::ssh_command(&vm).ok_or_else(|| AppError::NoIp(vm.name.clone()))?;
    write_clipboard(app, cmd)
}

/// Opens a terminal running ssh to the VM.
///
/// # Errors
/// Unknown or invalid name, no confirmed IPv4, no terminal.
pub fn open_ssh(app: &AppHandle, name: &str) -> Result<(), AppError> {
    let vm = find_vm(app, name)?;
    confirmed_ip(&vm)?;
    let mut argv = vmbar_engine::ssh::ssh_argv(&vm).ok_or_else(|| AppError::NoIp(vm.name.clone()))?;
    // ssh by absolute path where found: a GUI app's own PATH may lack the user's ssh.
    if let Some(ssh) = vmbar_engine::programs::find("ssh") {
        argv[0] = ssh.display().to_string();
    }
    crate::os::open_terminal(&argv)
}

/// Turns open at login on or off ([`crate::os::login_item`]: a ServiceManagement login item on
/// macOS 13+, else a LaunchAgent on macOS or an XDG autostart `.desktop` on Linux), records the
/// choice in the config file, and returns whether vmbar is registered afterwards.
///
/// # Errors
/// [`AppError::Autostart`] when the entry cannot be changed.
pub fn set_open_at_login(app: &AppHandle, enabled: bool) -> Result<bool, AppError> {
    let auto = app.autolaunch();
    let state = crate::os::login_item::set(
        enabled,
        |on| if on { auto.enable() } else { auto.disable() }.map_err(|e| e.to_string()),
        || auto.is_enabled().map_err(|e| e.to_string()),
    )
    .map_err(AppError::Autostart)?;
    let now = state.registered();
    let shared = app.state::<Shared>();
    let path = {
        let mut inner = shared.lock();
        inner.open_at_login = now;
        inner.login_item = state;
        inner.settings.config_path.clone()
    };
    // The entry is the truth; the config key follows it so the CLI and a reinstall agree.
    let edit = vmbar_engine::config::SettingsEdit { open_at_login: Some(now), ..Default::default() };
    if let Err(e) = vmbar_engine::config::save(&path, &edit) {
        tracing::warn!("open at login: cannot record in {}: {e}", path.display());
    }
    crate::publish(app);
    Ok(now)
}

/// Runs a tray menu action; errors are shown in a notification-free way: logged, and put in
/// the window's toast by the window when it asked.
pub fn run_menu_action(app: &AppHandle, action: crate::menu_model::Action) {
    use crate::menu_model::Action;
    let result = match action {
        Action::CopyIp(n) => copy_ip(app, &n).map(|_| ()),
        Action::CopySsh(n) => copy_ssh(app, &n).map(|_| ()),
        Action::OpenSsh(n) => open_ssh(app, &n),
        Action::OpenWindow => {
            crate::window::show(app);
            Ok(())
        }
        Action::Refresh => {
            crate::engine::refresh_now(app);
            Ok(())
        }
        Action::Settings => {
            crate::window::show_settings(app);
            Ok(())
        }
        Action::ToggleOpenAtLogin => {
            let on = app.state::<Shared>().lock().open_at_login;
            set_open_at_login(app, !on).map(|_| ())
        }
        Action::Quit => {
            app.exit(0);
            Ok(())
        }
    };
    if let Err(e) = result {
        tracing::warn!("menu action failed: {e}");
    }
}
