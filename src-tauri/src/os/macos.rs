//! macOS adapters: Terminal.app through osascript. The menu bar always has room for the icon.

use std::process::{Command, Stdio};

use crate::error::AppError;
use crate::os::terminal;

/// The macOS menu bar always hosts status items.
pub fn tray_host_problem() -> Option<String> {
    None
}

/// Opens Terminal.app running the ssh command (argv joined by the engine's `ssh::command_line`).
///
/// # Errors
/// [`AppError::Terminal`] when an argument cannot be quoted for a typed line, or osascript cannot
/// be started.
pub fn open_terminal(argv: &[String]) -> Result<(), AppError> {
    // The engine's one quoting function; it refuses an argument a typed line cannot hold.
    let line = vmbar_engine::ssh::command_line(argv).ok_or_else(|| AppError::Terminal("the ssh command holds characters a terminal line cannot carry".into()))?;
    let cmd = terminal::macos_command(&line);
    let program = terminal_program().ok_or_else(|| AppError::Terminal("osascript was not found".into()))?;
    Command::new(&program)
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| AppError::Terminal(format!("cannot start {}: {e}", program.display())))
}

/// What "Open SSH" starts: `osascript` (which drives Terminal.app), by absolute path.
pub fn terminal_program() -> Option<std::path::PathBuf> {
    vmbar_engine::programs::find("osascript")
}
