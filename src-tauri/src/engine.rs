//! The bridge to `vmbar-engine`: loads the settings with the same function as the CLI, runs the
//! engine's monitor on Tauri's tokio runtime, and turns each engine update into app state, tray
//! menu, window event and notifications. No detection happens here.

use std::sync::Arc;

use tauri::{AppHandle, Manager};
use tokio::sync::broadcast::error::RecvError;
use vmbar_engine::config::{self, Overrides, Settings};
use vmbar_engine::engine::Snapshot;
use vmbar_engine::monitor::{self, Monitor};
use vmbar_engine::StatusEvent;

use crate::error::AppError;
use crate::state::Shared;

/// The running monitor (Tauri managed state once started).
pub struct EngineHandle(pub Monitor);

/// The overrides of this run (flags only: the engine reads `VMBAR_CONFIG`/`VMBAR_VMS_DIR` itself,
/// so it can tell a flag from a variable).
pub fn overrides(opts: &crate::state::StartOptions) -> Overrides {
    Overrides { config_file: opts.config_file.clone(), vms_dir: opts.vms_dir.clone() }
}

/// Loads the settings; on error (a config file that does not parse), the defaults with the
/// flags applied, and the error to show in the window and menu.
///
/// # Errors
/// [`AppError::Settings`] when not even the defaults load (no home directory and no `--vms-dir`).
pub fn load_settings(opts: &crate::state::StartOptions) -> Result<(Settings, Option<String>), AppError> {
    match config::load(&overrides(opts)) {
        Ok(s) => Ok((s, None)),
        Err(e) => {
            let msg = e.to_string();
            tracing::error!("{msg}");
            // Fall back to defaults so the window can still show the problem and let it be fixed.
            let fallback = Overrides { config_file: Some(std::env::temp_dir().join("vmbar-no-config.toml")), vms_dir: opts.vms_dir.clone() };
            match config::load(&fallback) {
                Ok(mut s) => {
                    if let Ok((p, _)) = config::config_path(&overrides(opts)) {
                        s.config_path = p;
                    }
                    Ok((s, Some(msg)))
                }
                Err(e2) => Err(AppError::Settings(format!("{msg}; {e2}"))),
            }
        }
    }
}

/// Starts the monitor and the task that applies its updates. Call once, from `setup`.
pub fn start(app: &AppHandle, settings: Settings) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let monitor = monitor::spawn(settings);
        let mut rx = monitor.subscribe();
        app.manage(EngineHandle(monitor));
        loop {
            match rx.recv().await {
                Ok(update) => apply(&app, &update.snapshot, &update.events),
                Err(RecvError::Lagged(n)) => tracing::warn!("missed {n} engine updates"),
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Applies one engine update: state, notifications (once per boot, if enabled), tray, window.
pub fn apply(app: &AppHandle, snapshot: &Arc<Snapshot>, events: &[StatusEvent]) {
    let shared = app.state::<Shared>();
    let notices = {
        let mut inner = shared.lock();
        inner.vms = snapshot.vms.clone();
        inner.error = snapshot.error.clone();
        inner.at = Some(snapshot.at);
        let notices = inner.rule.observe(events, &snapshot.vms, vmbar_engine::ssh::ssh_command);
        if inner.settings.notifications {
            notices
        } else {
            Vec::new()
        }
    };
    crate::notifier::send(notices);
    crate::publish(app);
}

/// Asks the engine for a refresh now (no-op before it started).
pub fn refresh_now(app: &AppHandle) {
    if let Some(h) = app.try_state::<EngineHandle>() {
        h.0.refresh_now();
    }
}

/// Reloads the settings from the config file (flags and environment still apply) and hands them
/// to the engine.
///
/// # Errors
/// [`AppError::Settings`] when the file does not load.
pub fn reload_settings(app: &AppHandle) -> Result<(), AppError> {
    let shared = app.state::<Shared>();
    let settings = config::load(&overrides(&shared.opts)).map_err(|e| AppError::Settings(e.to_string()))?;
    {
        let mut inner = shared.lock();
        inner.settings = settings.clone();
        inner.settings_error = None;
    }
    if let Some(h) = app.try_state::<EngineHandle>() {
        h.0.reconfigure(settings);
    }
    crate::publish(app);
    Ok(())
}
