//! macOS adapters: Terminal.app through osascript. The menu bar always has room for the icon.

use std::process::{Command, Stdio};

use crate::error::AppError;
use crate::os::terminal;

/// The macOS menu bar always hosts status items.
pub fn tray_host_problem() -> Option<String> {
    None
}

/// Opens Terminal.app running the ssh command (argv joined with the engine's POSIX quoting).
///
/// # Errors
/// [`AppError::Terminal`] when osascript cannot be started.
pub fn open_terminal(argv: &[String]) -> Result<(), AppError> {
    let line: Vec<String> = argv.iter().map(|a| vmbar_engine::ssh::shell_quote(a).into_owned()).collect();
    let cmd = terminal::macos_command(&line.join(" "));
    Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| AppError::Terminal(format!("cannot start osascript: {e}")))
}
