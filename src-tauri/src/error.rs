//! The app's errors, as the window receives them: `{"kind": "...", "message": "..."}`.

use serde::Serialize;

/// An error of an app command or action. Serialised for the frontend as `{kind, message}` with
/// `kind` the variant name in snake case.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A VM name that cannot be a VM folder name (empty, too long, `/`, NUL, `.`/`..`, control
    /// characters).
    #[error("invalid VM name {0:?}")]
    InvalidName(String),
    /// No VM of that name in the engine's latest snapshot.
    #[error("no VM named {0:?}")]
    UnknownVm(String),
    /// The VM has no confirmed IPv4 for its current boot (a candidate is never copied).
    #[error("{0} has no confirmed IP yet")]
    NoIp(String),
    /// The clipboard could not be written.
    #[error("clipboard: {0}")]
    Clipboard(String),
    /// No terminal could be opened.
    #[error("terminal: {0}")]
    Terminal(String),
    /// The settings could not be read, checked or written.
    #[error("settings: {0}")]
    Settings(String),
    /// The settings would make vmbar write a registry file outside the VMs folder and the user has
    /// not confirmed that (the form then offers the confirmation).
    #[error("{0}")]
    RegistryOutsideVmsDir(String),
    /// The autostart entry (LaunchAgent / XDG autostart) could not be changed.
    #[error("open at login: {0}")]
    Autostart(String),
    /// The command-line tool could not be installed (no bundled CLI, an existing file, no
    /// write access).
    #[error("command-line tool: {0}")]
    CliInstall(String),
    /// The engine is not running yet.
    #[error("the engine is not running")]
    NoEngine,
}

impl AppError {
    fn kind(&self) -> &'static str {
        match self {
            AppError::InvalidName(_) => "invalid_name",
            AppError::UnknownVm(_) => "unknown_vm",
            AppError::NoIp(_) => "no_ip",
            AppError::Clipboard(_) => "clipboard",
            AppError::Terminal(_) => "terminal",
            AppError::Settings(_) => "settings",
            AppError::RegistryOutsideVmsDir(_) => "registry_outside_vms_dir",
            AppError::Autostart(_) => "autostart",
            AppError::CliInstall(_) => "cli_install",
            AppError::NoEngine => "no_engine",
        }
    }
}

impl Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("AppError", 2)?;
        st.serialize_field("kind", self.kind())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

/// Checks that `name` can be a VM folder name before it is looked up: at most 255 bytes, not
/// empty, `.` or `..`, no `/`, NUL or other control character.
///
/// # Errors
/// [`AppError::InvalidName`].
pub fn validate_name(name: &str) -> Result<(), AppError> {
    let bad = name.is_empty()
        || name.len() > 255
        || name == "."
        || name == ".."
        || name.chars().any(|c| c == '/' || c.is_control());
    if bad {
        Err(AppError::InvalidName(name.chars().take(80).collect()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        for ok in ["fargo", "<img src=x onerror=alert(1)>", "a b", "ünï", "x".repeat(255).as_str()] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a\0b", "a\nb", &"x".repeat(256)] {
            assert!(matches!(validate_name(bad), Err(AppError::InvalidName(_))), "{bad:?}");
        }
    }

    #[test]
    fn errors_serialise_with_kind_and_message() {
        let v = serde_json::to_value(AppError::NoIp("fargo".into())).unwrap();
        assert_eq!(v, serde_json::json!({"kind": "no_ip", "message": "fargo has no confirmed IP yet"}));
    }
}
