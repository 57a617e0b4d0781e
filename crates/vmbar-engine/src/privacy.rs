//! macOS privacy protections that make a readable-looking folder unreadable to vmbar, and what
//! to tell the user instead of "cannot read".
//!
//! macOS (10.15+, "Transparency, Consent, and Control") lets an app read the user's Desktop,
//! Documents and Downloads folders, iCloud Drive (`~/Library/Mobile Documents`), and
//! removable or network volumes (`/Volumes/...`) only after the user consented. Without
//! consent `opendir`/`open` fail with `EPERM` ("Operation not permitted"), unlike ordinary
//! Unix permissions, which give `EACCES` ("Permission denied"). Apple: "Protecting user data
//! with App Sandbox / TCC" and System Settings > Privacy & Security > Files and Folders.
//! The rule is pure ([`folder_error`] takes the OS as a flag), so it is tested on every OS.

use std::path::Path;

/// A folder macOS guards with a consent prompt, and the name System Settings gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectedFolder {
    /// `~/Desktop`.
    Desktop,
    /// `~/Documents`.
    Documents,
    /// `~/Downloads`.
    Downloads,
    /// iCloud Drive: `~/Library/Mobile Documents`.
    ICloudDrive,
    /// A removable or network volume under `/Volumes`.
    Volume,
}

impl ProtectedFolder {
    /// The setting's name under System Settings > Privacy & Security > Files and Folders.
    pub fn setting(self) -> &'static str {
        match self {
            ProtectedFolder::Desktop => "Desktop Folder",
            ProtectedFolder::Documents => "Documents Folder",
            ProtectedFolder::Downloads => "Downloads Folder",
            ProtectedFolder::ICloudDrive => "iCloud Drive",
            ProtectedFolder::Volume => "Removable Volumes / Network Volumes",
        }
    }
}

/// The protected folder `path` lies in (itself or below it), given the user's `home`.
pub fn protected_folder(path: &Path, home: Option<&Path>) -> Option<ProtectedFolder> {
    if path.starts_with("/Volumes") {
        return Some(ProtectedFolder::Volume);
    }
    let home = home?;
    [
        ("Desktop", ProtectedFolder::Desktop),
        ("Documents", ProtectedFolder::Documents),
        ("Downloads", ProtectedFolder::Downloads),
        ("Library/Mobile Documents", ProtectedFolder::ICloudDrive),
    ]
    .into_iter()
    .find(|(rel, _)| path.starts_with(home.join(rel)))
    .map(|(_, f)| f)
}

/// The sentence for a failure to read the folder `path` (`what` names it: "the VMs folder"):
/// on macOS, an `EPERM` inside a protected folder names the setting that grants access;
/// otherwise `cannot read {what} {path}: {error}`.
pub fn folder_error(what: &str, path: &Path, error: &std::io::Error, home: Option<&Path>, macos: bool) -> String {
    const EPERM: i32 = 1; // the same value on Linux and macOS
    if macos && error.raw_os_error() == Some(EPERM) {
        let place = match protected_folder(path, home) {
            Some(f) => format!("System Settings > Privacy & Security > Files and Folders > vmbar > {}", f.setting()),
            None => "System Settings > Privacy & Security > Full Disk Access (add vmbar)".to_string(),
        };
        return format!("macOS does not let vmbar read {what} {} yet ({error}): allow it in {place}, then vmbar reads it at once", path.display());
    }
    format!("cannot read {what} {}: {error}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eperm_in_documents_names_the_files_and_folders_setting() {
        let home = Path::new("/Users/ana");
        let eperm = std::io::Error::from_raw_os_error(1);
        let msg = folder_error("the VMs folder", Path::new("/Users/ana/Documents/vms"), &eperm, Some(home), true);
        assert!(msg.contains("Files and Folders > vmbar > Documents Folder"), "{msg}");
        let icloud = folder_error("the VMs folder", Path::new("/Users/ana/Library/Mobile Documents/com~apple~CloudDocs/vms"), &eperm, Some(home), true);
        assert!(icloud.contains("iCloud Drive"), "{icloud}");
        assert!(folder_error("the VMs folder", Path::new("/Volumes/ext/vms"), &eperm, Some(home), true).contains("Removable Volumes"));
        // Elsewhere TCC still says EPERM for other protected data: Full Disk Access.
        assert!(folder_error("the VMs folder", Path::new("/Users/ana/Library/Containers/x"), &eperm, Some(home), true).contains("Full Disk Access"));
    }

    #[test]
    fn ordinary_permissions_and_other_systems_keep_the_plain_error() {
        let home = Path::new("/Users/ana");
        let eacces = std::io::Error::from_raw_os_error(13);
        let msg = folder_error("the VMs folder", Path::new("/Users/ana/Documents/vms"), &eacces, Some(home), true);
        assert!(msg.starts_with("cannot read the VMs folder /Users/ana/Documents/vms: "), "{msg}");
        let eperm = std::io::Error::from_raw_os_error(1);
        assert!(!folder_error("the VMs folder", Path::new("/home/ana/Documents/vms"), &eperm, Some(Path::new("/home/ana")), false).contains("System Settings"));
        // "Documents2" is not Documents.
        assert_eq!(protected_folder(Path::new("/Users/ana/Documents2/vms"), Some(home)), None);
        assert_eq!(protected_folder(Path::new("/Users/ana/Desktop"), Some(home)), Some(ProtectedFolder::Desktop));
    }
}
