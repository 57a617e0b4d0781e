//! Everything that differs by OS, behind one set of functions: opening a terminal, finding out
//! whether a tray host exists, the macOS activation policy. The command lines and strings are
//! built by [`terminal`], compiled and tested on every OS; only the process or system call sits
//! in the `cfg`-gated files.

pub mod terminal;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::{open_terminal, tray_host_problem};

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
pub use macos::{open_terminal, tray_host_problem};

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod other {
    use crate::error::AppError;
    /// No known tray problem on other systems.
    pub fn tray_host_problem() -> Option<String> {
        None
    }
    /// Not supported here.
    pub fn open_terminal(_argv: &[String]) -> Result<(), AppError> {
        Err(AppError::Terminal("opening a terminal is not supported on this system".into()))
    }
}
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub use other::{open_terminal, tray_host_problem};

/// macOS: run as an accessory (no Dock icon, no app menu); `LSUIElement` in Info.plist does the
/// same for the bundle, this covers `cargo run`. Elsewhere nothing.
pub fn hide_from_dock(app: &mut tauri::App) {
    #[cfg(target_os = "macos")]
    app.set_activation_policy(tauri::ActivationPolicy::Accessory);
    #[cfg(not(target_os = "macos"))]
    let _ = app;
}
