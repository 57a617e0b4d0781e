//! # vmbar-app: the tray app
//!
//! A thin shell over `vmbar-engine`: the engine's monitor runs in the background
//! ([`engine`]); each update becomes app state ([`state`]), a tray menu ([`menu_model`] ->
//! [`tray`]), a `vmbar://state` event for the window (`ui/`), and once-per-boot notifications
//! ([`notify_rule`] -> [`notifier`]). Clicks come back as [`actions`] (from the menu) or
//! [`commands`] (from the window, each granted by name). OS differences sit in [`os`].

// Tests may unwrap: a panic there is a test failure with its message.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod actions;
pub mod cli;
pub mod cli_install;
pub mod commands;
pub mod engine;
pub mod error;
pub mod icon;
pub mod menu_model;
pub mod notifier;
pub mod notify_rule;
pub mod os;
pub mod state;
pub mod tray;
pub mod window;

#[cfg(test)]
mod testutil;

use std::sync::Mutex;

use clap::Parser as _;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_autostart::ManagerExt as _;

use crate::state::{Inner, Shared, StartOptions};

/// Sends the current state to the window and updates the tray, each only when it changed.
pub fn publish(app: &AppHandle) {
    let shared = app.state::<Shared>();
    let payload = {
        let mut inner = shared.lock();
        let payload = state::ui_state(&inner, shared.opts.pinned);
        let mut key = serde_json::to_value(&payload).unwrap_or_default();
        if let Some(o) = key.as_object_mut() {
            o.remove("at");
        }
        if inner.last_payload.as_ref() == Some(&key) {
            None
        } else {
            inner.last_payload = Some(key);
            Some(payload)
        }
    };
    if let Some(payload) = payload {
        if let Err(e) = app.emit_to(window::MAIN, "vmbar://state", payload) {
            tracing::warn!("state not sent to the window: {e}");
        }
    }
    tray::update(app);
}

/// The identity notifications are posted under: the app's bundle identifier from
/// `tauri.conf.json` (see [`notifier::init`]).
pub fn notifier_identity(config: &tauri::Config) -> &str {
    &config.identifier
}

/// Re-checks the tray host every 10 s (a GNOME extension can be enabled while we run) and shows
/// the window when the tray disappears, since it is then the only way in.
fn watch_tray_host(app: AppHandle) {
    std::thread::spawn(move || loop {
        let problem = os::tray_host_problem();
        let changed = {
            let shared = app.state::<Shared>();
            let mut inner = shared.lock();
            let changed = inner.tray_problem != problem;
            inner.tray_problem = problem.clone();
            changed
        };
        if changed {
            if let Some(p) = &problem {
                tracing::warn!("{p}");
                window::show(&app);
            }
            publish(&app);
        }
        std::thread::sleep(std::time::Duration::from_secs(10));
    });
}

/// Builds and runs the app with these options on `builder` (tests and `main` share this path).
///
/// # Errors
/// No usable settings, or Tauri cannot start (no display, bad `tauri.conf.json`).
pub fn run(builder: tauri::Builder<tauri::Wry>, opts: StartOptions) -> anyhow::Result<()> {
    let (settings, settings_error) = engine::load_settings(&opts)?;
    let shared = Shared {
        opts: opts.clone(),
        inner: Mutex::new(Inner {
            vms: Vec::new(),
            error: None,
            at: None,
            open_at_login: settings.open_at_login,
            programs: os::programs_found(),
            cli_bundled: cli_install::bundled_cli().map(|p| p.display().to_string()),
            cli_folders: cli_install::install_folders(),
            login_item: if settings.open_at_login { os::login_item::LoginItemState::On } else { os::login_item::LoginItemState::Off },
            settings: settings.clone(),
            settings_error,
            tray_problem: None,
            rule: notify_rule::NotifyRule::new(),
            last_payload: None,
            last_tray: None,
        }),
    };
    let app = builder
        // First: a second start only focuses the first instance's window.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| window::show(app)))
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_autostart::init(tauri_plugin_autostart::MacosLauncher::LaunchAgent, None))
        .manage(shared)
        .invoke_handler(tauri::generate_handler![
            commands::get_state,
            commands::copy_ip,
            commands::copy_ssh,
            commands::open_ssh,
            commands::refresh_now,
            commands::save_settings,
            commands::set_open_at_login,
            commands::hide_window,
            commands::install_cli,
        ])
        .on_window_event(window::on_event)
        .setup(move |app| {
            os::hide_from_dock(app);
            notifier::init(notifier_identity(app.config()));
            let handle = app.handle().clone();
            // The autostart entry is the truth for "Open at login".
            let auto = handle.autolaunch();
            if let Ok(state) = os::login_item::state(|| auto.is_enabled().map_err(|e| e.to_string())) {
                let shared = handle.state::<Shared>();
                let mut inner = shared.lock();
                inner.open_at_login = state.registered();
                inner.login_item = state;
            }
            tray::create(&handle)?;
            engine::start(&handle, settings);
            let problem = os::tray_host_problem();
            let show = opts.pinned || problem.is_some();
            handle.state::<Shared>().lock().tray_problem = problem;
            watch_tray_host(handle.clone());
            if show {
                window::show(&handle);
            }
            Ok(())
        })
        .build(tauri::generate_context!())?;
    app.run(|_app, event| {
        // No window open is normal for a tray app: only Quit (an explicit exit code) ends it.
        if let tauri::RunEvent::ExitRequested { api, code, .. } = event {
            if code.is_none() {
                api.prevent_exit();
            }
        }
    });
    Ok(())
}

/// The binary's entry: parses the flags, sets up logging (`RUST_LOG`, default `info`), runs.
pub fn main_entry() {
    let args = cli::Args::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .try_init();
    if let Err(e) = run(tauri::Builder::default(), args.start_options()) {
        eprintln!("vmbar-app: {e:#}");
        std::process::exit(1);
    }
}
