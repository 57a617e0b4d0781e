//! Everything that differs by OS, behind one set of functions: opening a terminal, finding out
//! whether a tray host exists, the macOS activation policy. The command lines and strings are
//! built by [`terminal`], compiled and tested on every OS; only the process or system call sits
//! in the `cfg`-gated files.

pub mod login_item;
pub mod terminal;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::{open_terminal, terminal_program, tray_host_problem};

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
pub use macos::{open_terminal, terminal_program, tray_host_problem};

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod other {
    use crate::error::AppError;
    /// No known tray problem on other systems.
    pub fn tray_host_problem() -> Option<String> {
        None
    }
    /// No terminal is known here.
    pub fn terminal_program() -> Option<std::path::PathBuf> {
        None
    }
    /// Not supported here.
    pub fn open_terminal(_argv: &[String]) -> Result<(), AppError> {
        Err(AppError::Terminal("opening a terminal is not supported on this system".into()))
    }
}
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub use other::{open_terminal, terminal_program, tray_host_problem};

/// macOS: run as an accessory (no Dock icon, no app menu); `LSUIElement` in Info.plist does the
/// same for the bundle, this covers `cargo run`. Elsewhere nothing.
pub fn hide_from_dock(app: &mut tauri::App) {
    #[cfg(target_os = "macos")]
    app.set_activation_policy(tauri::ActivationPolicy::Accessory);
    #[cfg(not(target_os = "macos"))]
    let _ = app;
}

/// The programs the app runs for the user, as settings shows them: each name with the absolute
/// path found where a login shell would look ([`vmbar_engine::programs`]), `None` when missing.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProgramFound {
    /// What it is for ("ssh", "terminal").
    pub role: String,
    /// The absolute path found, `None` when not found.
    pub path: Option<String>,
}

/// The programs found now: `ssh` and the terminal "Open SSH" starts.
pub fn programs_found() -> Vec<ProgramFound> {
    vec![
        ProgramFound { role: "ssh".into(), path: vmbar_engine::programs::find("ssh").map(|p| p.display().to_string()) },
        ProgramFound { role: "terminal".into(), path: terminal_program().map(|p| p.display().to_string()) },
    ]
}
