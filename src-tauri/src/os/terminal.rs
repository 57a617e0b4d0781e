//! Command lines that open a terminal running `ssh`, for each OS. Pure: the caller says which
//! programs exist, so the choice and the quoting are tested on any OS.
//!
//! The ssh argv (`["ssh", "-p", "2222", "user@10.0.0.5"]`, from `vmbar_engine::ssh::ssh_argv`) is
//! passed to terminals as separate arguments, never through a shell; only macOS's Terminal needs
//! one command string, which is the engine's `ssh::command_line` (the one quoting function, which
//! refuses what a typed line cannot hold) inside an AppleScript string literal.

/// The Linux terminals tried in order: program, and the arguments that come before the command's
/// argv (all of them take the command as separate arguments after these).
pub const LINUX_TERMINALS: [(&str, &[&str]); 10] = [
    ("x-terminal-emulator", &["-e"]),
    ("gnome-terminal", &["--"]),
    ("konsole", &["-e"]),
    ("xfce4-terminal", &["-x"]),
    ("kgx", &["--"]),
    ("kitty", &[]),
    ("alacritty", &["-e"]),
    ("foot", &[]),
    ("wezterm", &["start", "--"]),
    ("xterm", &["-e"]),
];

/// The Linux command line to run `argv` in a terminal: `$TERMINAL` when set (taken as taking the
/// command after `-e`), else the first of [`LINUX_TERMINALS`] that `exists` finds; `None` when
/// there is none.
pub fn linux_command(env_terminal: Option<&str>, exists: impl Fn(&str) -> bool, argv: &[String]) -> Option<Vec<String>> {
    let (program, pre): (String, Vec<String>) = match env_terminal.filter(|t| !t.trim().is_empty()) {
        Some(t) => (t.to_string(), vec!["-e".into()]),
        None => {
            let (p, pre) = LINUX_TERMINALS.iter().find(|(p, _)| exists(p))?;
            (p.to_string(), pre.iter().map(|s| s.to_string()).collect())
        }
    };
    let mut cmd = vec![program];
    cmd.extend(pre);
    cmd.extend(argv.iter().cloned());
    Some(cmd)
}

/// An AppleScript string literal holding `text` (backslashes and double quotes escaped).
pub fn applescript_string(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('"');
    for c in text.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            _ => s.push(c),
        }
    }
    s.push('"');
    s
}

/// The `osascript` argv that makes Terminal.app run `shell_command` (already POSIX-quoted by the
/// engine's `ssh::command_line`) in a new window and come to the front.
pub fn macos_command(shell_command: &str) -> Vec<String> {
    vec![
        "osascript".into(),
        "-e".into(),
        format!("tell application \"Terminal\" to do script {}", applescript_string(shell_command)),
        "-e".into(),
        "tell application \"Terminal\" to activate".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_prefers_terminal_env_then_the_first_installed() {
        let argv = vec!["ssh".to_string(), "10.0.0.5".into()];
        assert_eq!(linux_command(Some("foot"), |_| false, &argv).unwrap(), ["foot", "-e", "ssh", "10.0.0.5"]);
        assert_eq!(
            linux_command(None, |p| p == "gnome-terminal" || p == "xterm", &argv).unwrap(),
            ["gnome-terminal", "--", "ssh", "10.0.0.5"]
        );
        assert_eq!(linux_command(Some(" "), |p| p == "xterm", &argv).unwrap(), ["xterm", "-e", "ssh", "10.0.0.5"]);
        assert_eq!(linux_command(None, |_| false, &argv), None);
    }

    #[test]
    fn the_terminal_types_the_copied_command() {
        // The line macOS Terminal types is the engine's command line of the ssh argv: the text
        // `tests/typed_commands.rs` types into bash, dash, zsh and fish.
        let mut vm = crate::testutil::vm("fargo", vmbar_engine::Status::Running, Some("10.0.0.5"));
        vm.ssh_user = Some("x\u{15}touch /tmp/pwned;#".into());
        let argv = vmbar_engine::ssh::ssh_argv(&vm).unwrap();
        assert_eq!(argv, ["ssh", "10.0.0.5"], "a user outside the portable set is left out");
        vm.ssh_user = Some("ubuntu".into());
        vm.ssh_port = 2222;
        let line = vmbar_engine::ssh::command_line(&vmbar_engine::ssh::ssh_argv(&vm).unwrap()).unwrap();
        assert_eq!(Some(line.clone()), vmbar_engine::ssh::ssh_command(&vm));
        assert_eq!(macos_command(&line)[2], "tell application \"Terminal\" to do script \"ssh -p 2222 ubuntu@10.0.0.5\"");
    }

    #[test]
    fn applescript_escapes_quotes_and_backslashes() {
        assert_eq!(applescript_string(r#"ssh 'a"b\c'@10.0.0.5"#), r#""ssh 'a\"b\\c'@10.0.0.5""#);
        let cmd = macos_command("ssh 10.0.0.5");
        assert_eq!(cmd[2], "tell application \"Terminal\" to do script \"ssh 10.0.0.5\"");
    }
}
