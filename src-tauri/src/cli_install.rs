//! The `vmbar` command-line tool that comes with the app, and "Install command-line tool".
//!
//! The macOS bundle carries the CLI beside the app's own binary, as
//! `vmbar.app/Contents/MacOS/vmbar` (`bundle.macOS.files` in `tauri.conf.json`; the release
//! workflow builds it universal and signs it before bundling). Installing it puts a symbolic
//! link `FOLDER/vmbar` -> that binary in a folder the user chooses, normally one on their
//! `PATH` ([`install_folders`] offers the writable ones a login shell would search), so that
//! an app update updates the command too. Nothing is ever overwritten: an existing
//! `FOLDER/vmbar` that is not already this link is refused with the reason.
//!
//! Every command line vmbar writes for the user that runs the CLI names it by absolute path
//! ([`cli_path`]), never by a bare `vmbar` that the user's `PATH` may resolve to something else.

use std::path::{Path, PathBuf};

/// The CLI carried by this app: `vmbar` beside the running executable (inside the bundle's
/// `Contents/MacOS`, or the cargo target folder in development), when it is executable.
pub fn bundled_cli() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let cli = exe.parent()?.join("vmbar");
    vmbar_engine::programs::is_executable(&cli).then_some(cli)
}

/// The CLI by absolute path, for command lines vmbar writes: the bundled one, else a `vmbar`
/// found where a login shell would find it; `None` when there is none.
pub fn cli_path() -> Option<PathBuf> {
    bundled_cli().or_else(|| vmbar_engine::programs::find("vmbar"))
}

/// What installing would do in `folder`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallPlan {
    /// Create the link `FOLDER/vmbar` -> source.
    Create(PathBuf),
    /// The link is already there and points at the source: nothing to do.
    AlreadyInstalled(PathBuf),
}

/// Decides what installing `source` (the bundled CLI, absolute) into `folder` does.
///
/// # Errors
/// The reason, for the user: `folder` is not an absolute path to an existing folder, or
/// `FOLDER/vmbar` exists and is not a link to `source` (a file, a folder, another link:
/// never replaced).
pub fn plan_install(folder: &Path, source: &Path) -> Result<InstallPlan, String> {
    if !folder.is_absolute() {
        return Err(format!("{} is not an absolute folder path", folder.display()));
    }
    if !folder.is_dir() {
        return Err(format!("{} is not an existing folder", folder.display()));
    }
    let dest = folder.join("vmbar");
    match std::fs::symlink_metadata(&dest) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(InstallPlan::Create(dest)),
        Err(e) => Err(format!("cannot check {}: {e}", dest.display())),
        Ok(m) if m.file_type().is_symlink() && std::fs::read_link(&dest).ok().as_deref() == Some(source) => Ok(InstallPlan::AlreadyInstalled(dest)),
        Ok(m) if m.file_type().is_symlink() => Err(format!(
            "{} already exists and links to {}: remove it first to install vmbar's",
            dest.display(),
            std::fs::read_link(&dest).map(|t| t.display().to_string()).unwrap_or_else(|_| "?".into())
        )),
        Ok(_) => Err(format!("{} already exists and is not vmbar's link: it is left as it is (remove it first to install vmbar's)", dest.display())),
    }
}

/// Installs `source` into `folder` as the link `FOLDER/vmbar` ([`plan_install`]); returns the
/// link's path.
///
/// # Errors
/// [`plan_install`]'s reasons, or the OS error when the link cannot be made (no write access:
/// choose a folder you own, such as `~/.local/bin` or `~/bin`).
pub fn install(folder: &Path, source: &Path) -> Result<PathBuf, String> {
    match plan_install(folder, source)? {
        InstallPlan::AlreadyInstalled(dest) => Ok(dest),
        InstallPlan::Create(dest) => {
            std::os::unix::fs::symlink(source, &dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
            Ok(dest)
        }
    }
}

/// Folders to offer for the link: those of the login-shell search list
/// ([`vmbar_engine::programs::search_path`]) that exist and that this user may write, in
/// search order (a link placed earlier wins over another `vmbar` later on `PATH`).
pub fn install_folders() -> Vec<String> {
    vmbar_engine::programs::search_path()
        .into_iter()
        .filter(|d| d.is_dir() && nix::unistd::access(d, nix::unistd::AccessFlags::W_OK).is_ok())
        .map(|d| d.display().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_a_link_once_and_never_replaces_what_is_there() {
        let t = tempfile::tempdir().unwrap();
        let app = t.path().join("vmbar.app/Contents/MacOS");
        std::fs::create_dir_all(&app).unwrap();
        let source = app.join("vmbar");
        std::fs::write(&source, "#!/bin/sh\n").unwrap();
        let bin = t.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let dest = install(&bin, &source).unwrap();
        assert_eq!(dest, bin.join("vmbar"));
        assert_eq!(std::fs::read_link(&dest).unwrap(), source, "a link to the bundled CLI, not a copy");
        // Again: nothing to do.
        assert_eq!(plan_install(&bin, &source), Ok(InstallPlan::AlreadyInstalled(bin.join("vmbar"))));
        assert_eq!(install(&bin, &source).unwrap(), dest);
        // Another link, a file, a folder: refused and left alone.
        let other = t.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        std::os::unix::fs::symlink("/usr/local/Cellar/vmbar/bin/vmbar", other.join("vmbar")).unwrap();
        let err = install(&other, &source).unwrap_err();
        assert!(err.contains("links to /usr/local/Cellar/vmbar/bin/vmbar"), "{err}");
        assert_eq!(std::fs::read_link(other.join("vmbar")).unwrap(), Path::new("/usr/local/Cellar/vmbar/bin/vmbar"));
        let file = t.path().join("file");
        std::fs::create_dir_all(&file).unwrap();
        std::fs::write(file.join("vmbar"), "user's own").unwrap();
        assert!(install(&file, &source).unwrap_err().contains("is not vmbar's link"));
        assert_eq!(std::fs::read_to_string(file.join("vmbar")).unwrap(), "user's own");
        // Not a folder, or relative.
        assert!(install(Path::new("bin"), &source).unwrap_err().contains("absolute"));
        assert!(install(&t.path().join("missing"), &source).unwrap_err().contains("not an existing folder"));
    }

    #[test]
    fn offered_folders_are_writable_existing_search_folders() {
        for f in install_folders() {
            let p = Path::new(&f);
            assert!(p.is_absolute() && p.is_dir(), "{f}");
        }
    }
}
