//! The `ssh` command a person pastes or a terminal types: `ssh [-p PORT] USER@IP`,
//! POSIX-quoted by the one quoting function vmbar has ([`shell_quote`]).
//!
//! Such a line is TYPED into an interactive shell (macOS Terminal's `do script`, a paste):
//! before any quoting counts, the tty's line discipline and the shell's line editor act on
//! control characters (Ctrl-U erases the line, so `'x^Utouch f'` runs `touch f`), and fish
//! reads `\'` inside single quotes as a quote. So [`shell_quote`] refuses what no quoting can
//! make safe, and the user name is checked against [`valid_user`] where the report is built
//! (`engine.rs`) and again here. `tests/typed_commands.rs` types the lines into bash, dash,
//! zsh and fish on a pty.

use std::borrow::Cow;

use crate::model::VmReport;

/// The longest user name vmbar accepts, in bytes (glibc's `LOGIN_NAME_MAX` is 256; `useradd`
/// and macOS stop at 32; 64 leaves room for `user@directory` accounts).
pub const MAX_USER_BYTES: usize = 64;

/// True for a user name vmbar puts into an ssh command: 1 to [`MAX_USER_BYTES`] bytes of the
/// POSIX portable user-name set `A-Z a-z 0-9 . _ -` plus `@` (directory accounts such as
/// `jane@corp.example`), not starting with `-` (ssh would read it as an option). Anything else
/// (spaces, quotes, `$`, backslashes, control characters, non-ASCII) is refused.
pub fn valid_user(user: &str) -> bool {
    !user.is_empty()
        && user.len() <= MAX_USER_BYTES
        && !user.starts_with('-')
        && user.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
}

/// Quotes `s` as one word of a POSIX shell command line that a person may paste or a terminal
/// may type: unchanged when it has only characters no shell treats specially
/// (`A-Za-z0-9@+:,./_-`), else wrapped in single quotes with each `'` written as `'\''`; the
/// empty string becomes `''`. `=` and `%` are quoted: zsh expands a bare word starting with `=`
/// (`=ls` is `/usr/bin/ls`), fish one starting with `%` (`%self` is its PID), and a first word
/// `a=b` is an assignment.
///
/// `None` (refused) when `s` holds a character no quoting protects once the line is typed:
/// a control character (C0 including tab, CR and newline, DEL, C1), a backslash (fish reads
/// `\'` inside single quotes as a quote), or any non-ASCII character (readline turns bytes
/// >= 0x80 into Meta keys in a non-UTF-8 locale; Unicode line separators and bidi controls).
pub fn shell_quote(s: &str) -> Option<Cow<'_, str>> {
    if s.chars().any(|c| !c.is_ascii() || c.is_ascii_control() || c == '\\') {
        return None;
    }
    let safe = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"@+:,./_-".contains(&b));
    Some(if safe { Cow::Borrowed(s) } else { Cow::Owned(format!("'{}'", s.replace('\'', r"'\''"))) })
}

/// `argv` as one command line: each element through [`shell_quote`], joined by spaces.
/// `None` when any element is refused. This is the only way vmbar builds a command line
/// (the copied ssh command, the macOS Terminal line).
pub fn command_line<S: AsRef<str>>(argv: &[S]) -> Option<String> {
    let words: Option<Vec<Cow<'_, str>>> = argv.iter().map(|a| shell_quote(a.as_ref())).collect();
    Some(words?.join(" "))
}

/// The ssh argv for a VM with a confirmed IPv4: `["ssh", "-p", PORT, "USER@IP"]`, without
/// `-p PORT` for port 22 and without `USER@` when the report has no user or its user fails
/// [`valid_user`] (the engine already drops such users; this is the last line of defence for
/// reports from elsewhere). `None` without a confirmed IPv4 (a candidate is never offered).
pub fn ssh_argv(report: &VmReport) -> Option<Vec<String>> {
    let ip = report.ipv4.filter(|_| report.confirmed)?;
    let mut argv = vec!["ssh".to_string()];
    if report.ssh_port != 22 {
        argv.push("-p".into());
        argv.push(report.ssh_port.to_string());
    }
    argv.push(match report.ssh_user.as_deref().filter(|u| valid_user(u)) {
        Some(user) => format!("{user}@{ip}"),
        None => ip.to_string(),
    });
    Some(argv)
}

/// The ssh command a person pastes: [`ssh_argv`] through [`command_line`]
/// (`ssh -p 2222 ubuntu@10.0.0.5`). `None` without a confirmed IPv4.
pub fn ssh_command(report: &VmReport) -> Option<String> {
    command_line(&ssh_argv(report)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CloudInitStage, Status};

    fn report(user: Option<&str>, port: u16) -> VmReport {
        VmReport {
            name: "fargo".into(),
            status: Status::Running,
            ipv4: Some("192.168.1.23".parse().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)),
            source: None,
            confirmed: true,
            candidate: None,
            mac: None,
            ssh_user: user.map(str::to_owned),
            ssh_port: port,
            since: chrono::Utc::now(),
            detail: None,
            boot: None,
            cloud_init: CloudInitStage::NotSeen,
            notes: Vec::new(),
        }
    }

    #[test]
    fn commands() {
        assert_eq!(ssh_command(&report(Some("ubuntu"), 22)).as_deref(), Some("ssh ubuntu@192.168.1.23"));
        assert_eq!(ssh_command(&report(None, 2222)).as_deref(), Some("ssh -p 2222 192.168.1.23"));
        assert_eq!(ssh_command(&report(Some("jane@corp.example"), 22)).as_deref(), Some("ssh jane@corp.example@192.168.1.23"));
        // A user outside the portable set never reaches the line: the IP alone is offered.
        for bad in ["o'brien; rm -rf ~", "$(reboot)", "-oProxyCommand=x", "x\u{15}touch f;#", "\\';touch f;#", "a b", ""] {
            assert_eq!(ssh_command(&report(Some(bad), 22)).as_deref(), Some("ssh 192.168.1.23"), "{bad:?}");
        }
        let mut r = report(Some("ubuntu"), 22);
        r.confirmed = false;
        assert_eq!(ssh_command(&r), None, "a candidate is never offered");
        r.ipv4 = None;
        assert_eq!(ssh_command(&r), None);
    }

    #[test]
    fn the_terminal_line_is_the_copied_command() {
        let r = report(Some("ubuntu"), 2222);
        assert_eq!(ssh_argv(&r), Some(vec!["ssh".to_string(), "-p".into(), "2222".into(), "ubuntu@192.168.1.23".into()]));
        assert_eq!(ssh_argv(&r).and_then(|a| command_line(&a)), ssh_command(&r));
    }

    #[test]
    fn user_names() {
        for ok in ["ubuntu", "a", "svc.deploy_01-x", "jane@corp.example", "A-Z", &"u".repeat(64)] {
            assert!(valid_user(ok), "{ok:?}");
        }
        for bad in ["", "-o", "a b", "a'b", "a\\b", "a\u{15}b", "a\nb", "ünï", "a$b", "a;b", "a`b", "a/b", &"u".repeat(65)] {
            assert!(!valid_user(bad), "{bad:?}");
        }
    }

    #[test]
    fn quoting_refuses_what_a_typed_line_cannot_hold() {
        for bad in ["x\u{15}y", "a\nb", "a\rb", "tab\there", "\u{7f}", "\u{9b}", "\\", "\\'", "ü", "a\u{2028}b", "\u{202e}"] {
            assert_eq!(shell_quote(bad), None, "{bad:?}");
        }
        assert_eq!(command_line(&["ssh", "a\u{15}b"]), None);
        assert_eq!(shell_quote("plain").as_deref(), Some("plain"));
        assert_eq!(shell_quote("it's").as_deref(), Some(r"'it'\''s'"));
        assert_eq!(shell_quote("").as_deref(), Some("''"));
    }

    #[test]
    fn words_zsh_or_fish_would_expand_are_quoted() {
        // zsh: `=ls` -> /usr/bin/ls, `==` an error; fish: `%self` -> its PID (tests/typed_commands.rs).
        for (word, quoted) in [("=ls", "'=ls'"), ("==", "'=='"), ("%self", "'%self'"), ("a=b", "'a=b'"), ("50%", "'50%'")] {
            assert_eq!(shell_quote(word).as_deref(), Some(quoted), "{word:?}");
        }
        assert_eq!(shell_quote("jane@corp.example").as_deref(), Some("jane@corp.example"));
    }

    #[test]
    fn quoting_round_trips_through_sh() -> Result<(), Box<dyn std::error::Error>> {
        for s in ["plain", "with space", "it's", "$(echo pwned)", "`x`", "\"q\"", "", "a;b|c&d>e<f", "!x ~y *z ?w [v] {u} #t"] {
            let q = shell_quote(s).ok_or("refused")?;
            let out = std::process::Command::new("sh").arg("-c").arg(format!("printf %s {q}")).output()?;
            assert_eq!(String::from_utf8_lossy(&out.stdout), s);
        }
        Ok(())
    }
}
