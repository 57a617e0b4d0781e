//! The popover-like window: shown from the tray menu, hidden (never destroyed) when closed or
//! when it loses focus, unless `--show` pinned it or there is no tray to bring it back.

use tauri::{AppHandle, Emitter, Manager, WebviewWindow, WindowEvent};

use crate::state::Shared;

/// The window's label in `tauri.conf.json`.
pub const MAIN: &str = "main";

fn main_window(app: &AppHandle) -> Option<WebviewWindow> {
    app.get_webview_window(MAIN)
}

/// Shows and focuses the window, placed near the tray icon when the tray knows where it is
/// (macOS), else where the window manager puts it.
pub fn show(app: &AppHandle) {
    let Some(w) = main_window(app) else { return };
    if !w.is_visible().unwrap_or(false) {
        place_near_tray(app, &w);
    }
    let _ = w.unminimize();
    let _ = w.show();
    let _ = w.set_focus();
}

/// Shows the window with its settings form open.
pub fn show_settings(app: &AppHandle) {
    show(app);
    let _ = app.emit_to(MAIN, "vmbar://show-settings", ());
}

fn place_near_tray(app: &AppHandle, w: &WebviewWindow) {
    let Some(tray) = app.tray_by_id(crate::tray::TRAY_ID) else { return };
    let Ok(Some(rect)) = tray.rect() else { return };
    let Ok(size) = w.outer_size() else { return };
    let scale = w.scale_factor().unwrap_or(1.0);
    let pos = rect.position.to_physical::<f64>(scale);
    let tsize = rect.size.to_physical::<f64>(scale);
    // Centred under the icon (menu bar at the top on macOS).
    let x = (pos.x + tsize.width / 2.0 - f64::from(size.width) / 2.0).max(0.0);
    let y = pos.y + tsize.height + 4.0;
    let _ = w.set_position(tauri::PhysicalPosition::new(x, y));
}

/// Window events: close hides; focus loss hides unless pinned (`--show`) or the tray is missing
/// (then the window is the only way back in). Under Xvfb there is no window manager, so focus
/// events are unreliable there: tests always run with `--show`.
pub fn on_event(window: &tauri::Window, event: &WindowEvent) {
    if window.label() != MAIN {
        return;
    }
    let app = window.app_handle();
    let shared = app.state::<Shared>();
    match event {
        WindowEvent::CloseRequested { api, .. } => {
            api.prevent_close();
            let _ = window.hide();
        }
        WindowEvent::Focused(false) => {
            let keep = shared.opts.pinned || shared.lock().tray_problem.is_some();
            if !keep {
                let _ = window.hide();
            }
        }
        _ => {}
    }
}
