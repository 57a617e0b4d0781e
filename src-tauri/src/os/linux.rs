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

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

/// Starts a terminal running `argv` (the ssh argv) and returns at once (the terminal is not waited for).
///
/// # Errors
/// [`AppError::Terminal`] when no terminal program is installed or it cannot be started.
pub fn open_terminal(argv: &[String]) -> Result<(), AppError> {
    let env_terminal = std::env::var("TERMINAL").ok();
    let cmd = terminal::linux_command(env_terminal.as_deref(), on_path, argv)
        .ok_or_else(|| AppError::Terminal("no terminal program found (set $TERMINAL or install xterm)".into()))?;
    Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| AppError::Terminal(format!("cannot start {}: {e}", cmd[0])))
}
