//! The tray menu as plain data, built from the engine's reports: one submenu per VM (sorted by
//! name, so 50 VMs stay findable), then the app's own items. `tray.rs` turns it into a real menu;
//! keeping the model pure lets tests check labels, order and enabled states without a display.

use vmbar_engine::{Status, VmReport};

/// The shape that stands for a status in menus and in the window, so the status reads without
/// colour (colour-blind users, macOS template images): filled = running, half = booting,
/// dotted = initializing, hollow = stopped, cross = missing.
pub fn status_glyph(status: Status) -> &'static str {
    match status {
        Status::Running => "●",
        Status::Booting => "◐",
        Status::Initializing => "◌",
        Status::Stopped => "○",
        Status::Missing => "✕",
    }
}

/// What a click on a menu item does. Each action has a stable string id (the menu item id), so
/// a click can be mapped back to an action; VM names travel inside the id verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Copy the VM's confirmed IPv4 to the clipboard.
    CopyIp(String),
    /// Copy the VM's `ssh [-p PORT] USER@IP` command to the clipboard.
    CopySsh(String),
    /// Open a terminal running the VM's ssh command.
    OpenSsh(String),
    /// Show the window (optionally scrolled to one VM: not needed, the window lists all).
    OpenWindow,
    /// Ask the engine for a refresh now.
    Refresh,
    /// Show the window's settings form.
    Settings,
    /// Toggle "Open at login" (the autostart entry).
    ToggleOpenAtLogin,
    /// Quit the app.
    Quit,
}

/// Makes a per-VM action from a VM name.
type VmAction = fn(String) -> Action;

const VM_PREFIX: [(&str, VmAction); 3] =
    [("copy-ip:", Action::CopyIp), ("copy-ssh:", Action::CopySsh), ("open-ssh:", Action::OpenSsh)];

impl Action {
    /// The menu item id of this action (`copy-ip:NAME`, `refresh`, ...).
    pub fn id(&self) -> String {
        match self {
            Action::CopyIp(n) => format!("copy-ip:{n}"),
            Action::CopySsh(n) => format!("copy-ssh:{n}"),
            Action::OpenSsh(n) => format!("open-ssh:{n}"),
            Action::OpenWindow => "open-window".into(),
            Action::Refresh => "refresh".into(),
            Action::Settings => "settings".into(),
            Action::ToggleOpenAtLogin => "open-at-login".into(),
            Action::Quit => "quit".into(),
        }
    }

    /// The action of a menu item id, or `None` for ids that are not actions (headers, separators).
    pub fn parse(id: &str) -> Option<Action> {
        for (prefix, make) in VM_PREFIX {
            if let Some(name) = id.strip_prefix(prefix) {
                return Some(make(name.to_string()));
            }
        }
        match id {
            "open-window" => Some(Action::OpenWindow),
            "refresh" => Some(Action::Refresh),
            "settings" => Some(Action::Settings),
            "open-at-login" => Some(Action::ToggleOpenAtLogin),
            "quit" => Some(Action::Quit),
            _ => None,
        }
    }
}

/// One item of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The menu item id; an [`Action::id`] for clickable items.
    pub id: String,
    /// The text shown (already escaped for the menu toolkit: see [`menu_text`]).
    pub label: String,
    /// False for items shown greyed (no confirmed IP yet, informational lines).
    pub enabled: bool,
}

/// One VM's submenu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmEntry {
    /// The VM's name, verbatim.
    pub name: String,
    /// The submenu's title: glyph, name, IPv4 or "no IP yet", status.
    pub label: String,
    /// The VM's status.
    pub status: Status,
    /// The items: an informational line, then Copy IP, Copy ssh command, Open SSH, Open window.
    pub items: Vec<Item>,
}

/// The whole tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuModel {
    /// A greyed first line summing up the VMs ("3 VMs: 1 running, 2 stopped") or the engine's error.
    pub summary: String,
    /// One entry per VM, sorted by name (case-insensitive, then exact).
    pub vms: Vec<VmEntry>,
    /// The app's own items after the VMs: Open window, Refresh now, Settings, Open at login, Quit.
    pub app_items: Vec<Item>,
    /// The checked state of "Open at login".
    pub open_at_login: bool,
}

/// Escapes text for muda's labels, where `&` marks a mnemonic (`&&` is a literal `&`): a VM named
/// `a&b` must not lose its ampersand or grab a keyboard shortcut. Control characters (a newline or
/// an ESC in a folder name or a guest-written detail) are shown as escapes (`\n`), never raw.
pub fn menu_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&&"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// The IPv4 text of a VM: its confirmed address, else "no IP yet" (a candidate is never shown as
/// the VM's address).
pub fn ip_text(vm: &VmReport) -> String {
    match vm.ipv4 {
        Some(ip) if vm.confirmed => ip.to_string(),
        _ => "no IP yet".to_string(),
    }
}

/// The VMs sorted the way every view shows them: by name, case-insensitively, ties by exact name.
pub fn sorted(vms: &[VmReport]) -> Vec<&VmReport> {
    let mut v: Vec<&VmReport> = vms.iter().collect();
    v.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.name.cmp(&b.name)));
    v
}

/// A one-line count of the VMs by status, most interesting first ("1 booting, 2 running, 1 stopped").
pub fn summary(vms: &[VmReport]) -> String {
    if vms.is_empty() {
        return "No VMs".into();
    }
    let order = [Status::Booting, Status::Initializing, Status::Running, Status::Stopped, Status::Missing];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|s| {
            let n = vms.iter().filter(|v| v.status == *s).count();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    let noun = if vms.len() == 1 { "VM" } else { "VMs" };
    format!("{} {noun}: {}", vms.len(), parts.join(", "))
}

/// The status the tray icon shows: the most interesting one among the VMs (a VM in transition
/// beats a running one, which beats stopped, which beats missing); `None` with no VMs.
pub fn overall(vms: &[VmReport]) -> Option<Status> {
    fn rank(s: Status) -> u8 {
        match s {
            Status::Booting => 5,
            Status::Initializing => 4,
            Status::Running => 3,
            Status::Stopped => 2,
            Status::Missing => 1,
        }
    }
    vms.iter().map(|v| v.status).max_by_key(|s| rank(*s))
}

/// Builds the menu from the engine's reports. `error` is the snapshot's error (the VMs folder
/// cannot be read, ...), shown as the summary line when set. `can_ssh` tells whether a VM has an
/// ssh command (a confirmed IPv4), which the caller gets from the engine.
pub fn build(vms: &[VmReport], error: Option<&str>, open_at_login: bool) -> MenuModel {
    let entries = sorted(vms)
        .into_iter()
        .map(|vm| {
            let has_ip = vm.confirmed && vm.ipv4.is_some();
            let info = match (&vm.detail, vm.candidate) {
                (Some(d), _) => format!("{}: {}", vm.status, d),
                (None, Some(c)) if !has_ip => format!("{}: unconfirmed {} ({})", vm.status, c.ipv4, c.source),
                _ => vm.status.to_string(),
            };
            let item = |action: Action, label: &str, enabled: bool| Item { id: action.id(), label: label.into(), enabled };
            VmEntry {
                name: vm.name.clone(),
                label: menu_text(&format!("{} {} — {} ({})", status_glyph(vm.status), vm.name, ip_text(vm), vm.status)),
                status: vm.status,
                items: vec![
                    Item { id: format!("info:{}", vm.name), label: menu_text(&info), enabled: false },
                    item(Action::CopyIp(vm.name.clone()), "Copy IP", has_ip),
                    item(Action::CopySsh(vm.name.clone()), "Copy ssh command", has_ip),
                    item(Action::OpenSsh(vm.name.clone()), "Open SSH in a terminal", has_ip),
                    item(Action::OpenWindow, "Open window", true),
                ],
            }
        })
        .collect();
    let summary = match error {
        Some(e) => menu_text(e),
        None => summary(vms),
    };
    let item = |a: Action, label: &str| Item { id: a.id(), label: label.into(), enabled: true };
    MenuModel {
        summary,
        vms: entries,
        app_items: vec![
            item(Action::OpenWindow, "Open window"),
            item(Action::Refresh, "Refresh now"),
            item(Action::Settings, "Settings…"),
            item(Action::ToggleOpenAtLogin, "Open at login"),
            item(Action::Quit, "Quit vmbar"),
        ],
        open_at_login,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::vm;

    #[test]
    fn menu_text_escapes_mnemonics_and_control_characters() {
        assert_eq!(menu_text("a&b"), "a&&b");
        assert_eq!(menu_text("two\nlines\x1b[2J"), "two\\nlines\\u{1b}[2J");
        assert_eq!(menu_text("ünï code"), "ünï code");
    }

    #[test]
    fn vms_are_sorted_case_insensitively_with_ip_or_no_ip_yet() {
        let vms = vec![
            vm("zulu", Status::Stopped, None),
            vm("Alpha", Status::Running, Some("10.0.0.5")),
            vm("bravo", Status::Initializing, None),
        ];
        let m = build(&vms, None, false);
        let names: Vec<&str> = m.vms.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Alpha", "bravo", "zulu"]);
        assert_eq!(m.vms[0].label, "● Alpha — 10.0.0.5 (running)");
        assert_eq!(m.vms[1].label, "◌ bravo — no IP yet (initializing)");
        assert_eq!(m.summary, "3 VMs: 1 initializing, 1 running, 1 stopped");
    }

    #[test]
    fn copy_items_are_disabled_without_a_confirmed_ip_and_never_use_the_candidate() {
        let mut v = vm("fargo", Status::Initializing, None);
        v.candidate = Some(vmbar_engine::Candidate { ipv4: "192.168.64.9".parse().unwrap(), source: vmbar_engine::Source::Registry });
        let m = build(&[v], None, false);
        let e = &m.vms[0];
        assert!(e.label.contains("no IP yet"), "{}", e.label);
        assert_eq!(e.items[0].label, "initializing: unconfirmed 192.168.64.9 (registry)");
        assert!(!e.items[0].enabled);
        assert!(e.items[1..4].iter().all(|i| !i.enabled), "{:?}", e.items);
        assert!(e.items[4].enabled);
    }

    #[test]
    fn ampersands_in_names_are_escaped_for_the_menu_toolkit() {
        let m = build(&[vm("a&b_c", Status::Stopped, None)], None, false);
        assert_eq!(m.vms[0].label, "○ a&&b_c — no IP yet (stopped)");
        // The action id keeps the name verbatim.
        assert_eq!(Action::parse(&m.vms[0].items[1].id), Some(Action::CopyIp("a&b_c".into())));
    }

    #[test]
    fn action_ids_round_trip_including_names_with_colons() {
        for a in [
            Action::CopyIp("x:y".into()),
            Action::CopySsh("<img src=x>".into()),
            Action::OpenSsh("fargo".into()),
            Action::OpenWindow,
            Action::Refresh,
            Action::Settings,
            Action::ToggleOpenAtLogin,
            Action::Quit,
        ] {
            assert_eq!(Action::parse(&a.id()), Some(a.clone()));
        }
        assert_eq!(Action::parse("info:fargo"), None);
        assert_eq!(Action::parse(""), None);
    }

    #[test]
    fn fifty_vms_give_fifty_submenus_and_the_app_items_stay_last() {
        let vms: Vec<_> = (0..50).map(|i| vm(&format!("vm{i:02}"), Status::Stopped, None)).collect();
        let m = build(&vms, None, true);
        assert_eq!(m.vms.len(), 50);
        assert_eq!(m.vms[49].name, "vm49");
        assert_eq!(m.app_items.last().map(|i| i.id.as_str()), Some("quit"));
        assert!(m.open_at_login);
    }

    #[test]
    fn overall_prefers_transitions_then_running() {
        assert_eq!(overall(&[]), None);
        let s = |st| vm("a", st, None);
        assert_eq!(overall(&[s(Status::Stopped), s(Status::Running)]), Some(Status::Running));
        assert_eq!(overall(&[s(Status::Running), s(Status::Booting)]), Some(Status::Booting));
        assert_eq!(overall(&[s(Status::Missing), s(Status::Stopped)]), Some(Status::Stopped));
    }

    #[test]
    fn engine_error_replaces_the_summary() {
        let m = build(&[], Some("VMs folder /x does not exist"), false);
        assert_eq!(m.summary, "VMs folder /x does not exist");
        assert!(m.vms.is_empty());
    }
}
