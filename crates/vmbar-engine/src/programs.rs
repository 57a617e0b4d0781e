//! Finding the programs vmbar runs (`ssh`, a terminal, the user's own `vm` tool) where the
//! user's login shell would find them, also when vmbar itself was started without that shell.
//!
//! A macOS app started from Finder, the Dock or at login inherits launchd's minimal `PATH`
//! (`/usr/bin:/bin:/usr/sbin:/sbin`): no Homebrew (`/opt/homebrew/bin` on Apple silicon,
//! `/usr/local/bin` on Intel), no MacPorts, no `~/.local/bin`. A login shell gets more from
//! two places: macOS's `path_helper(8)` (run by `/etc/zprofile` and `/etc/profile`), which
//! appends each line of `/etc/paths` and then of every file in `/etc/paths.d/` (in name
//! order), and the user's own profile (`brew shellenv`, `~/.local/bin`, ...), which vmbar
//! does not execute: instead it adds the folders those profiles conventionally add.
//! A Linux desktop session usually passes a full `PATH`; the same list only adds to it.
//!
//! The search list is built by the pure [`login_search_path`] (tested on every OS); the
//! inherited `PATH` comes first, so a user who starts vmbar from a terminal gets exactly the
//! programs that terminal would run. Relative entries (and empty ones, which mean the current
//! folder) are dropped: a GUI app's current folder is not a place to run programs from.
//! Every program is then run by its absolute path, never through a shell.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Folders a login shell's profile conventionally adds, after `PATH` and `path_helper`'s
/// files: Homebrew (Apple silicon, then Intel), MacPorts, Nix (per user, system, NixOS), the
/// user's own bin folders, then the base system. `~` is the user's home folder.
pub const CONVENTIONAL_DIRS: [&str; 16] = [
    "/opt/homebrew/bin",
    "/opt/homebrew/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/opt/local/bin",
    "/opt/local/sbin",
    "~/.nix-profile/bin",
    "/nix/var/nix/profiles/default/bin",
    "/run/current-system/sw/bin",
    "~/.local/bin",
    "~/bin",
    "~/.cargo/bin",
    "/usr/bin",
    "/bin",
    "/usr/sbin",
    "/sbin",
];

/// The folders to search, in order, without duplicates: the entries of `inherited` (a `PATH`
/// value, `:`-separated), then the lines of `etc_paths` (the text of `/etc/paths`) and of each
/// `etc_paths_d` text (the files of `/etc/paths.d/`, already in name order), then
/// [`CONVENTIONAL_DIRS`] with `~` replaced by `home` (dropped without a home). Only absolute
/// folders are kept; blank lines and `#` comments in the path files are skipped.
pub fn login_search_path(inherited: Option<&OsStr>, home: Option<&Path>, etc_paths: Option<&str>, etc_paths_d: &[String]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut push = |p: PathBuf| {
        if p.is_absolute() && !out.contains(&p) {
            out.push(p);
        }
    };
    if let Some(path) = inherited {
        for dir in std::env::split_paths(path) {
            push(dir);
        }
    }
    for text in etc_paths.into_iter().chain(etc_paths_d.iter().map(String::as_str)) {
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            push(PathBuf::from(line));
        }
    }
    for dir in CONVENTIONAL_DIRS {
        match dir.strip_prefix("~/") {
            Some(rest) => {
                if let Some(h) = home {
                    push(h.join(rest));
                }
            }
            None => push(PathBuf::from(dir)),
        }
    }
    out
}

/// The first `dirs` entry holding an executable `name` (as `is_executable` judges), by
/// absolute path. A `name` with a `/` is a path: returned when absolute and executable, never
/// searched. `None` when not found (or `name` is empty, `.` or `..`).
pub fn find_in(name: &str, dirs: &[PathBuf], is_executable: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    if name.is_empty() || name == "." || name == ".." {
        return None;
    }
    if name.contains('/') {
        let p = Path::new(name);
        return (p.is_absolute() && is_executable(p)).then(|| p.to_path_buf());
    }
    dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p))
}

/// Whether `path` is a regular file (after links) with an execute bit.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// This process's search list: [`login_search_path`] of its `PATH`, home folder, and this
/// machine's `/etc/paths` and `/etc/paths.d/*` (present on macOS; absent files count as empty).
pub fn search_path() -> Vec<PathBuf> {
    let etc_paths = std::fs::read_to_string("/etc/paths").ok();
    let mut files: Vec<PathBuf> = std::fs::read_dir("/etc/paths.d")
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    let texts: Vec<String> = files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).collect();
    login_search_path(std::env::var_os("PATH").as_deref(), dirs::home_dir().as_deref(), etc_paths.as_deref(), &texts)
}

/// `name`'s absolute path on [`search_path`], `None` when not found.
pub fn find(name: &str) -> Option<PathBuf> {
    find_in(name, &search_path(), is_executable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finder_path_gains_homebrew_path_helper_and_user_bins() {
        // launchd's PATH for an app opened from Finder, plus macOS's own path_helper files.
        let launchd = OsStr::new("/usr/bin:/bin:/usr/sbin:/sbin");
        let d = login_search_path(Some(launchd), Some(Path::new("/Users/ana")), Some("/usr/local/bin\n/System/Cryptexes/App/usr/bin\n/usr/bin\n/bin\n"), &["/Library/Apple/usr/bin\n".into(), "# comment\n\n/opt/X11/bin\n".into()]);
        let s: Vec<&str> = d.iter().map(|p| p.to_str().unwrap_or("")).collect();
        assert_eq!(&s[..6], ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin", "/System/Cryptexes/App/usr/bin"]);
        for want in ["/Library/Apple/usr/bin", "/opt/X11/bin", "/opt/homebrew/bin", "/Users/ana/.local/bin", "/Users/ana/bin", "/opt/local/bin"] {
            assert!(s.contains(&want), "{want} missing from {s:?}");
        }
        assert_eq!(s.iter().filter(|x| **x == "/usr/bin").count(), 1, "no duplicates");
        let pos = |x: &str| s.iter().position(|y| *y == x);
        assert!(pos("/opt/X11/bin") < pos("/opt/homebrew/bin"), "path_helper before conventions");
    }

    #[test]
    fn relative_and_empty_path_entries_are_never_searched() {
        let d = login_search_path(Some(OsStr::new(":.:bin:/ok/bin::")), None, Some("relative/bin\n"), &[]);
        assert_eq!(d[0], PathBuf::from("/ok/bin"));
        assert!(d.iter().all(|p| p.is_absolute()), "{d:?}");
        assert!(!d.iter().any(|p| p.to_string_lossy().contains(".local")), "no home: no ~ folders: {d:?}");
    }

    #[test]
    fn finds_the_first_executable_by_absolute_path() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir()?;
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        std::fs::create_dir_all(&a)?;
        std::fs::create_dir_all(&b)?;
        std::fs::write(a.join("vm"), "not executable")?;
        std::fs::write(b.join("vm"), "#!/bin/sh\n")?;
        std::fs::set_permissions(b.join("vm"), std::fs::Permissions::from_mode(0o755))?;
        std::fs::create_dir_all(a.join("ssh"))?; // a folder is not a program
        let dirs = vec![a.clone(), b.clone()];
        assert_eq!(find_in("vm", &dirs, is_executable), Some(b.join("vm")));
        assert_eq!(find_in("ssh", &dirs, is_executable), None);
        assert_eq!(find_in("", &dirs, is_executable), None);
        assert_eq!(find_in("..", &dirs, is_executable), None);
        // A path is checked, never searched; a relative one is refused.
        assert_eq!(find_in(&b.join("vm").to_string_lossy(), &[], is_executable), Some(b.join("vm")));
        assert_eq!(find_in("b/vm", &[t.path().to_path_buf()], is_executable), None);
        Ok(())
    }
}
