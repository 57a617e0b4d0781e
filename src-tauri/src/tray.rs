//! The tray icon and its menu (one submenu per VM, then the app's items), rebuilt from
//! [`crate::menu_model`] after each engine update. On Linux the tray reports no clicks on the icon
//! itself (StatusNotifierItem via libayatana-appindicator), so every action is a menu item; on
//! macOS a click opens the same menu.

use tauri::image::Image;
use tauri::menu::{CheckMenuItemBuilder, Menu, MenuBuilder, MenuItemBuilder, PredefinedMenuItem, SubmenuBuilder};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

use crate::menu_model::{self, Action, MenuModel};

/// The tray icon's id.
pub const TRAY_ID: &str = "vmbar";

fn icon(status: Option<vmbar_engine::Status>) -> Image<'static> {
    Image::new_owned(crate::icon::rgba(status, cfg!(target_os = "macos")), crate::icon::SIZE, crate::icon::SIZE)
}

/// Builds the real menu from the model.
///
/// # Errors
/// Tauri's menu errors (only on a toolkit failure).
pub fn build_menu(app: &AppHandle, model: &MenuModel) -> tauri::Result<Menu<tauri::Wry>> {
    let mut menu = MenuBuilder::new(app).item(&MenuItemBuilder::with_id("summary", &model.summary).enabled(false).build(app)?);
    if !model.vms.is_empty() {
        menu = menu.separator();
    }
    for vm in &model.vms {
        let mut sub = SubmenuBuilder::with_id(app, format!("vm:{}", vm.name), &vm.label);
        for (i, item) in vm.items.iter().enumerate() {
            if i == 1 {
                sub = sub.separator();
            }
            sub = sub.item(&MenuItemBuilder::with_id(&item.id, &item.label).enabled(item.enabled).build(app)?);
        }
        menu = menu.item(&sub.build()?);
    }
    menu = menu.separator();
    for item in &model.app_items {
        if item.id == Action::ToggleOpenAtLogin.id() {
            menu = menu.item(&CheckMenuItemBuilder::with_id(&item.id, &item.label).checked(model.open_at_login).build(app)?);
        } else {
            if item.id == Action::Quit.id() {
                menu = menu.item(&PredefinedMenuItem::separator(app)?);
            }
            menu = menu.item(&MenuItemBuilder::with_id(&item.id, &item.label).enabled(item.enabled).build(app)?);
        }
    }
    menu.build()
}

/// Creates the tray icon with an initial (empty) menu.
///
/// # Errors
/// Tauri's tray errors.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let model = menu_model::build(&[], Some("Looking for VMs…"), false);
    let menu = build_menu(app, &model)?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(None))
        .icon_as_template(cfg!(target_os = "macos"))
        .tooltip("vmbar")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| {
            if let Some(action) = Action::parse(event.id().as_ref()) {
                crate::actions::run_menu_action(app, action);
            }
        })
        .build(app)?;
    Ok(())
}

/// Rebuilds the menu, icon and tooltip from the current state.
pub fn update(app: &AppHandle) {
    let shared = app.state::<crate::state::Shared>();
    let (model, overall, tip) = {
        let mut inner = shared.lock();
        let err = inner.settings_error.as_deref().or(inner.error.as_deref());
        let next = (menu_model::build(&inner.vms, err, inner.open_at_login), menu_model::overall(&inner.vms), menu_model::summary(&inner.vms));
        if inner.last_tray.as_ref() == Some(&next) {
            return;
        }
        inner.last_tray = Some(next.clone());
        next
    };
    let Some(tray) = app.tray_by_id(TRAY_ID) else { return };
    match build_menu(app, &model) {
        Ok(menu) => {
            if let Err(e) = tray.set_menu(Some(menu)) {
                tracing::warn!("tray menu not updated: {e}");
            }
        }
        Err(e) => tracing::warn!("tray menu not built: {e}"),
    }
    let _ = tray.set_icon(Some(icon(overall)));
    let _ = tray.set_icon_as_template(cfg!(target_os = "macos"));
    let _ = tray.set_tooltip(Some(format!("vmbar: {tip}")));
}
