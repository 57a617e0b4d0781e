//! The command lines vmbar hands to a person, TYPED into interactive shells on a
//! pty, as a terminal does (issue #16, SECURITY.md "Command lines").
//!
//! `sh -c` is not enough: a line typed into a terminal goes through the tty's
//! line discipline (Ctrl-U kills the line in canonical mode: dash) and the
//! shell's line editor (readline, zle, fish's reader: Ctrl-U, Ctrl-W, ...),
//! and fish reads `\'` inside single quotes as a quote. So each payload is
//! typed, byte for byte, into bash, dash, zsh and fish running interactively
//! on a pseudo-terminal (`nix::pty::openpty`; `setsid --ctty` makes it the
//! shell's controlling terminal), with `ssh` on `PATH` replaced by a stub
//! that only records its argv. Nothing connects anywhere; the address is
//! from TEST-NET-1 (192.0.2.0/24) and never leaves this process as a packet.
//!
//! The text typed is exactly what vmbar produces: [`ssh::ssh_command`] (the
//! copied "ssh" command and the notification body) and [`ssh::command_line`]
//! over [`ssh::ssh_argv`] (the line macOS Terminal's `do script` types).
//!
//! A shell that is not installed prints `SKIPPED: reason`; with
//! `VMBAR_REQUIRE_PRIVILEGED=1` (CI, where `scripts/setup` installs all four)
//! that fails instead.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use vmbar_engine::model::{CloudInitStage, Status, VmReport};
use vmbar_engine::ssh;

/// A TEST-NET-1 address: documentation only, never routed.
const IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);

/// The shells a person types into, started interactive without their rc files.
const SHELLS: [(&str, &[&str]); 4] = [
    ("bash", &["--norc", "--noprofile", "-i"]),
    ("dash", &["-i"]),
    ("zsh", &["-f", "-i"]),
    ("fish", &["--no-config", "-i"]),
];

/// How long one step of a shell session may take before the session counts
/// as hung (a failure bound on a busy machine, not a speed claim).
const STEP: Duration = Duration::from_secs(20);

/// The payloads of issue #16; `{M}` is replaced by the marker file's path.
fn payloads(marker: &Path) -> Vec<(&'static str, String)> {
    let m = marker.display().to_string();
    vec![
        ("ctrl-u kills the quoted prefix", format!("x\u{15}touch {m};#")),
        ("fish reads \\' as a quote", format!("\\';touch {m};#")),
        ("command substitution", format!("$(touch {m})")),
        ("backticks", format!("`touch {m}`")),
        ("newline", format!("x\ntouch {m};#")),
        ("carriage return", format!("x\rtouch {m};#")),
        ("ctrl-w and ctrl-c", format!("x\u{17}\u{3}touch {m};#")),
        ("single quote", format!("a'b;touch {m};#")),
        ("escape sequence", format!("x\u{1b}[200~touch {m};#")),
    ]
}

fn report(user: &str) -> VmReport {
    let mut r: VmReport = serde_json::from_value(serde_json::json!({
        "name": "fargo", "status": "running", "ipv4": IP.to_string(), "source": "console", "confirmed": true,
        "candidate": null, "mac": null, "ssh_user": null, "ssh_port": 22, "since": "2026-12-01T10:00:00.000Z",
        "detail": null, "boot": null, "cloud_init": "finished"
    }))
    .unwrap();
    assert_eq!((r.status, r.cloud_init), (Status::Running, CloudInitStage::Finished));
    r.ssh_user = Some(user.to_owned());
    r
}

/// Whether `program` is installed; else prints SKIPPED (or fails under VMBAR_REQUIRE_PRIVILEGED=1).
fn have(program: &str) -> bool {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).any(|d| d.join(program).is_file());
    if !found {
        let why = format!("{program} is not installed (scripts/setup engine installs it)");
        assert!(std::env::var("VMBAR_REQUIRE_PRIVILEGED").as_deref() != Ok("1"), "cannot run: {why}, but VMBAR_REQUIRE_PRIVILEGED=1");
        println!("SKIPPED: {why}");
    }
    found
}

fn which(program: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).map(|d| d.join(program)).find(|p| p.is_file()).unwrap_or_else(|| PathBuf::from(program))
}

/// One interactive shell on a pty.
struct Session {
    child: Child,
    master: std::fs::File,
    out: Receiver<Vec<u8>>,
    seen: Vec<u8>,
    shell: &'static str,
}

impl Session {
    fn start(shell: &'static str, args: &[&str], dir: &Path) -> Session {
        let pty = nix::pty::openpty(None, None).unwrap();
        let slave = pty.slave;
        let bin = dir.join("bin");
        let mut cmd = Command::new("setsid");
        cmd.arg("--ctty").arg(which(shell)).args(args);
        cmd.env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("HOME", dir)
            .env("TERM", "xterm")
            .env("LANG", "C.UTF-8")
            .env("PS1", "$ ")
            .env("VMBAR_SSH_LOG", dir.join("ssh.log"))
            .current_dir(dir)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {shell}: {e}"));
        let master = std::fs::File::from(pty.master);
        let mut reader = master.try_clone().unwrap();
        let (tx, out) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once the shell and its children closed the pty: the end.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut s = Session { child, master, out, seen: Vec::new(), shell };
        // The prompt may come before the shell reads: sync on a command's output.
        if let Err(e) = s.sync("READY") {
            panic!("{e}");
        }
        s
    }

    fn type_text(&mut self, text: &str) {
        self.master.write_all(text.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// Types `printf '%s%s\n' AB CD` until `ABCD` appears in the output: the shell has run
    /// everything typed before (the echo of the typed line holds `AB CD`, never `ABCD`).
    fn sync(&mut self, word: &str) -> Result<(), String> {
        let (a, b) = word.split_at(word.len() / 2);
        let from = self.seen.len();
        let deadline = Instant::now() + STEP;
        // Typed again if the shell dropped it (some flush typeahead while a command runs).
        let mut next_try = Instant::now();
        loop {
            if Instant::now() >= next_try {
                self.type_text(&format!("printf '%s%s\\n' {a} {b}\r"));
                next_try = Instant::now() + Duration::from_secs(3);
            }
            if let Ok(chunk) = self.out.recv_timeout(Duration::from_millis(100)) {
                self.seen.extend_from_slice(&chunk);
            }
            if memchr_find(&self.seen[from..], word.as_bytes()) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("{}: no {word} after {STEP:?}; the terminal shows:\n{}", self.shell, String::from_utf8_lossy(&self.seen)));
            }
        }
    }

    fn end(mut self) {
        self.type_text("exit\r");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A temp folder with `bin/ssh`, a stub that appends `<arg>` per argument and a newline to `ssh.log`.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::write(bin.join("ssh"), "#!/bin/sh\n{ for a in \"$@\"; do printf '<%s>' \"$a\"; done; printf '\\n'; } >> \"$VMBAR_SSH_LOG\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("ssh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Types `line` (and Return) into `shell`, then returns what the ssh stub recorded, or
/// an error when the marker file appeared: the line ran a command.
fn type_line(shell: &'static str, args: &[&str], line: &str, what: &str) -> Result<String, String> {
    let dir = workdir();
    let marker = dir.path().join("pwned");
    let line = line.replace("{M}", &marker.display().to_string());
    let mut s = Session::start(shell, args, dir.path());
    s.type_text(&line);
    s.type_text("\r");
    let done = s.sync("DONE");
    let screen = String::from_utf8_lossy(&s.seen).into_owned();
    s.end();
    if let Err(e) = done {
        return Err(format!("{shell}: typing the {what} {line:?} left the shell waiting for more input: {e}"));
    }
    if marker.exists() {
        return Err(format!("{shell}: typing the {what} {line:?} ran a command ({} was created); the terminal shows:\n{screen}", marker.display()));
    }
    let log = std::fs::read_to_string(dir.path().join("ssh.log")).unwrap_or_default();
    Ok(log.replace(&marker.display().to_string(), "{M}"))
}

/// Panics with every failure at once (one line each, the terminal of the first).
fn report_failures(failures: &[String]) {
    if let Some(first) = failures.first() {
        let lines: Vec<&str> = failures.iter().map(|f| f.lines().next().unwrap_or("")).collect();
        panic!("{} typed line(s) misbehaved:\n{}\n\nfirst in full:\n{first}", failures.len(), lines.join("\n"));
    }
}

fn shells() -> Vec<(&'static str, &'static [&'static str])> {
    let all = ["setsid"].iter().all(|p| have(p));
    SHELLS.iter().copied().filter(|(s, _)| all && have(s)).collect()
}

/// The copied ssh command and the macOS Terminal line for a report whose
/// `ssh_user` holds each payload (as if it had come from the registry),
/// typed into every shell: only ssh runs, with one `[USER@]IP` argument.
#[test]
fn typed_ssh_commands_run_only_ssh_in_every_shell() {
    let mut failures = Vec::new();
    for (shell, args) in shells() {
        for (what, payload) in payloads(Path::new("{M}")) {
            let r = report(&payload);
            let Some(cmd) = ssh::ssh_command(&r) else { panic!("no ssh command for {payload:?}") };
            // macOS Terminal's `do script` types the same text (unescaped from AppleScript).
            assert_eq!(ssh::ssh_argv(&r).and_then(|a| ssh::command_line(&a)).as_deref(), Some(cmd.as_str()));
            match type_line(shell, args, &cmd, &format!("ssh command for a user with {what}")) {
                Ok(log) if log == format!("<{IP}>\n") || log == format!("<{payload}@{IP}>\n") => {}
                Ok(log) => failures.push(format!("{shell}: typing {cmd:?} ran ssh with {log:?}")),
                Err(e) => failures.push(e),
            }
        }
    }
    report_failures(&failures);
}

/// Every word [`ssh::shell_quote`] accepts, typed as `ssh WORD` into every shell, reaches ssh as
/// exactly one argument, unchanged; what it cannot protect (control characters, backslashes,
/// non-ASCII) it refuses.
#[test]
fn quoted_words_typed_into_every_shell_arrive_as_one_argument() {
    let words = [
        "plain",
        "with space",
        "it's",
        "'",
        "''",
        "$(touch {M})",
        "`touch {M}`",
        "a'b;touch {M};#",
        "\"q\";touch {M}",
        "!!",
        "!-1 ^x^y",
        "~root *",
        "$HOME ${HOME} %s",
        "a|touch {M}&",
        "{a,b} [x] ?",
        "#x",
        "",
        // zsh's EQUALS expansion (`=ls` -> /usr/bin/ls, `==` an error) and fish's `%self` (its PID)
        // act on bare words that start with `=` or `%`.
        "=ls",
        "==",
        "%self",
        "a=b",
    ];
    let mut failures = Vec::new();
    for (shell, args) in shells() {
        for w in words {
            let Some(q) = ssh::shell_quote(w) else { panic!("{w:?} refused") };
            let line = format!("ssh {q}");
            match type_line(shell, args, &line, "quoted word") {
                Ok(log) if log == format!("<{w}>\n") => {}
                Ok(log) => failures.push(format!("{shell}: typing {line:?} ran ssh with {log:?}, not <{w}>")),
                Err(e) => failures.push(e),
            }
        }
    }
    report_failures(&failures);
    for (what, payload) in payloads(Path::new("{M}")) {
        let quoted = ssh::shell_quote(&payload);
        let typeable = !payload.chars().any(|c| c.is_control() || c == '\\');
        assert_eq!(quoted.is_some(), typeable, "{what}: {payload:?} -> {quoted:?}");
    }
}
