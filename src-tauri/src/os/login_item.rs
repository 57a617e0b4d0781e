//! "Open at login": which mechanism registers vmbar, and the macOS choice between them.
//!
//! - macOS 13 (Ventura) and later: the app itself is a login item through Apple's
//!   ServiceManagement framework (`SMAppService.mainAppService`, via `smappservice-rs`). The user
//!   sees and controls it in System Settings > General > Login Items, where it may also need
//!   approval ([`LoginItemState::NeedsApproval`]).
//! - macOS before 13, and builds that are not an app bundle (`cargo run`; ServiceManagement then
//!   refuses to register): a LaunchAgent plist in `~/Library/LaunchAgents`, written by the
//!   autostart plugin (`tauri-plugin-autostart`, `MacosLauncher::LaunchAgent`).
//! - Linux: an XDG autostart entry (`~/.config/autostart/vmbar-app.desktop`), by the same plugin.
//!
//! The choice is a pure function of the macOS product version ([`macos_uses_service_management`]),
//! tested on every OS; only the framework calls are `cfg`-gated.

use serde::Serialize;

/// What registers vmbar to open at login on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    /// macOS 13+: `SMAppService.mainAppService` (System Settings > General > Login Items).
    ServiceManagement,
    /// macOS before 13 (or not a bundle): `~/Library/LaunchAgents/<app>.plist`.
    LaunchAgent,
    /// Linux: an XDG autostart `.desktop` file.
    XdgAutostart,
}

/// The state of the login item, as the OS reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginItemState {
    /// Registered and eligible to run at login.
    On,
    /// Not registered.
    Off,
    /// macOS 13+: registered, but the user must allow it in System Settings > General > Login
    /// Items before it runs (also after the user turned it off there).
    NeedsApproval,
}

impl LoginItemState {
    /// Whether vmbar is registered (approved or waiting for approval).
    pub fn registered(self) -> bool {
        !matches!(self, LoginItemState::Off)
    }
}

/// Whether a macOS with this product version (`sw_vers -productVersion`, e.g. `"14.5"`,
/// `"13.0.1"`, `"10.15.7"`) registers login items through ServiceManagement (13 and later).
/// An unreadable version gives `false`: the LaunchAgent works on every version.
pub fn macos_uses_service_management(product_version: Option<&str>) -> bool {
    product_version
        .and_then(|v| v.trim().split('.').next())
        .and_then(|major| major.parse::<u32>().ok())
        .is_some_and(|major| major >= 13)
}

/// The mechanism for this OS (and, on macOS, this version).
pub fn mechanism() -> Mechanism {
    #[cfg(target_os = "macos")]
    {
        if macos_uses_service_management(sysinfo::System::os_version().as_deref()) {
            return Mechanism::ServiceManagement;
        }
        Mechanism::LaunchAgent
    }
    #[cfg(not(target_os = "macos"))]
    Mechanism::XdgAutostart
}

/// The text settings shows for a mechanism and state (where the user sees or changes it).
pub fn describe(mechanism: Mechanism, state: LoginItemState) -> String {
    let place = match mechanism {
        Mechanism::ServiceManagement => "a login item (System Settings > General > Login Items)",
        Mechanism::LaunchAgent => "a LaunchAgent (~/Library/LaunchAgents)",
        Mechanism::XdgAutostart => "an autostart entry (~/.config/autostart)",
    };
    match state {
        LoginItemState::On => format!("opens at login: {place}"),
        LoginItemState::Off => format!("does not open at login (it would be {place})"),
        LoginItemState::NeedsApproval => {
            format!("registered as {place}, but macOS waits for your approval there before it opens vmbar at login")
        }
    }
}

#[cfg(target_os = "macos")]
mod service_management {
    //! The ServiceManagement calls (macOS 13+ only: callers check [`super::mechanism`]).
    use smappservice_rs::{AppService, ServiceStatus, ServiceType};

    use super::LoginItemState;

    /// The main app's login item state.
    pub fn state() -> LoginItemState {
        match AppService::new(ServiceType::MainApp).status() {
            ServiceStatus::Enabled => LoginItemState::On,
            ServiceStatus::RequiresApproval => LoginItemState::NeedsApproval,
            ServiceStatus::NotRegistered | ServiceStatus::NotFound => LoginItemState::Off,
        }
    }

    /// Registers or unregisters the main app.
    ///
    /// # Errors
    /// The framework's error (e.g. an unsigned or unbundled app: `InvalidSignature`).
    pub fn set(enabled: bool) -> Result<(), String> {
        let service = AppService::new(ServiceType::MainApp);
        let res = if enabled { service.register() } else { service.unregister() };
        res.map_err(|e| e.to_string())
    }
}

/// The login item's state as the OS reports it, through `plugin_enabled` (the autostart
/// plugin's check: LaunchAgent / XDG entry) and, on macOS 13+, ServiceManagement too (a
/// LaunchAgent left by an earlier vmbar also counts as on).
///
/// # Errors
/// The plugin's error, as text.
pub fn state(plugin_enabled: impl Fn() -> Result<bool, String>) -> Result<LoginItemState, String> {
    #[cfg(target_os = "macos")]
    if mechanism() == Mechanism::ServiceManagement {
        let sm = service_management::state();
        if sm != LoginItemState::Off {
            return Ok(sm);
        }
    }
    Ok(if plugin_enabled()? { LoginItemState::On } else { LoginItemState::Off })
}

/// Turns open at login on or off and returns the state afterwards. On macOS 13+ the app
/// registers through ServiceManagement and removes a LaunchAgent an earlier vmbar left (so it
/// never opens twice); where ServiceManagement refuses (an app run outside its bundle), the
/// LaunchAgent is used. `plugin_set` is the autostart plugin's enable/disable.
///
/// # Errors
/// The plugin's or the framework's error, as text.
pub fn set(
    enabled: bool,
    plugin_set: impl Fn(bool) -> Result<(), String>,
    plugin_enabled: impl Fn() -> Result<bool, String>,
) -> Result<LoginItemState, String> {
    #[cfg(target_os = "macos")]
    if mechanism() == Mechanism::ServiceManagement {
        match service_management::set(enabled) {
            Ok(()) => {
                if plugin_enabled().unwrap_or(false) {
                    plugin_set(false)?;
                }
                return state(plugin_enabled);
            }
            Err(e) if enabled => tracing::warn!("login item: ServiceManagement refused ({e}); using a LaunchAgent"),
            // Turning off: the LaunchAgent of an earlier vmbar may be what is on.
            Err(e) => tracing::debug!("login item: nothing to unregister ({e})"),
        }
    }
    plugin_set(enabled)?;
    state(plugin_enabled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_management_from_macos_13_on() {
        for (v, sm) in [
            (Some("13.0"), true),
            (Some("13.0.1"), true),
            (Some("14.5"), true),
            (Some("26.1"), true),
            (Some(" 15 "), true),
            (Some("12.7.6"), false),
            (Some("10.15.7"), false),
            (Some(""), false),
            (Some("Sonoma"), false),
            (None, false),
        ] {
            assert_eq!(macos_uses_service_management(v), sm, "{v:?}");
        }
    }

    #[test]
    fn state_and_set_follow_the_plugin_where_it_is_the_mechanism() {
        use std::cell::Cell;
        let on = Cell::new(false);
        let flip = |e: bool| -> Result<(), String> {
            on.set(e);
            Ok(())
        };
        let st = set(true, flip, || Ok(on.get()));
        if mechanism() != Mechanism::ServiceManagement {
            assert_eq!(st, Ok(LoginItemState::On));
            assert!(on.get());
            assert_eq!(set(false, flip, || Ok(on.get())), Ok(LoginItemState::Off));
            assert_eq!(state(|| Err("no autostart dir".into())), Err("no autostart dir".to_string()));
        }
    }

    #[test]
    fn descriptions_say_where_the_user_finds_it() {
        assert!(describe(Mechanism::ServiceManagement, LoginItemState::NeedsApproval).contains("System Settings > General > Login Items"));
        assert!(describe(Mechanism::XdgAutostart, LoginItemState::On).contains("~/.config/autostart"));
        assert!(!LoginItemState::Off.registered());
        assert!(LoginItemState::NeedsApproval.registered());
    }
}
