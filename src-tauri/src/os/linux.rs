//! Linux adapters: the StatusNotifier tray host check (D-Bus) and starting a terminal.

use std::process::{Command, Stdio};

use crate::error::AppError;
use crate::os::terminal;

const WATCHER: &str = "org.kde.StatusNotifierWatcher";

/// Why the tray icon cannot be seen, or `None` when a StatusNotifier host is there. The tray
/// (libayatana-appindicator) registers with `org.kde.StatusNotifierWatcher` on the session bus;
/// GNOME without the AppIndicator extension has no watcher, and the icon then never appears.
pub fn tray_host_problem() -> Option<String> {
    let check = || -> zbus::Result<bool> {
        let conn = zbus::blocking::Connection::session()?;
        let dbus = zbus::blocking::fdo::DBusProxy::new(&conn)?;
        if !dbus.name_has_owner(zbus::names::BusName::try_from(WATCHER)?)? {
            return Ok(false);
        }
        let watcher = zbus::blocking::Proxy::new(&conn, WATCHER, "/StatusNotifierWatcher", WATCHER)?;
        // Older watchers lack the property: a watcher that answers is taken as a host.
        Ok(watcher.get_property::<bool>("IsStatusNotifierHostRegistered").unwrap_or(true))
    };
    match check() {
        Ok(true) => None,
        Ok(false) => Some(
            "No system tray was found on this desktop, so vmbar's tray icon is not shown. On GNOME, \
             install the \"AppIndicator and KStatusNotifierItem Support\" extension; meanwhile \
             everything is available in this window."
                .into(),
        ),
        Err(e) => Some(format!(
            "The session bus cannot be reached ({e}), so vmbar's tray icon and notifications may not \
             work; everything is available in this window."
        )),
    }
}

/// Starts a terminal running `argv` (the ssh argv) and returns at once (the terminal is not waited
/// for). The terminal is looked up where a login shell would find it
/// ([`vmbar_engine::programs`]) and started by its absolute path.
///
/// # Errors
/// [`AppError::Terminal`] when no terminal program is installed or it cannot be started.
pub fn open_terminal(argv: &[String]) -> Result<(), AppError> {
    let env_terminal = std::env::var("TERMINAL").ok();
    let dirs = vmbar_engine::programs::search_path();
    let found = |p: &str| vmbar_engine::programs::find_in(p, &dirs, vmbar_engine::programs::is_executable);
    let cmd = terminal::linux_command(env_terminal.as_deref(), |p| found(p).is_some(), argv)
        .ok_or_else(|| AppError::Terminal("no terminal program found (set $TERMINAL or install xterm)".into()))?;
    let program = found(&cmd[0]).ok_or_else(|| AppError::Terminal(format!("the terminal {} was not found", cmd[0])))?;
    Command::new(&program)
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| AppError::Terminal(format!("cannot start {}: {e}", program.display())))
}

/// The terminal "Open SSH" would use (`$TERMINAL`, else the first installed of
/// [`terminal::LINUX_TERMINALS`]), by absolute path; `None` when there is none.
pub fn terminal_program() -> Option<std::path::PathBuf> {
    let dirs = vmbar_engine::programs::search_path();
    let found = |p: &str| vmbar_engine::programs::find_in(p, &dirs, vmbar_engine::programs::is_executable);
    let env_terminal = std::env::var("TERMINAL").ok();
    let cmd = terminal::linux_command(env_terminal.as_deref(), |p| found(p).is_some(), &[])?;
    found(&cmd[0])
}
