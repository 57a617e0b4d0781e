//! The `ssh` command a person pastes: `ssh [-p PORT] USER@IP`, POSIX-quoted.

use std::borrow::Cow;

use crate::model::VmReport;

/// Quotes `s` for a POSIX shell: unchanged when it has only characters no
/// shell treats specially (`A-Za-z0-9@%+=:,./_-`), else wrapped in single
/// quotes with each `'` written as `'\''`. The empty string becomes `''`.
pub fn shell_quote(s: &str) -> Cow<'_, str> {
    let safe = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    if safe {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("'{}'", s.replace('\'', r"'\''")))
    }
}

/// The ssh command for a VM with a confirmed IPv4: `ssh [-p PORT] [USER@]IP`,
/// each part quoted with [`shell_quote`]. `None` without a confirmed IPv4
/// (an unconfirmed candidate is never offered). The user is the report's
/// `ssh_user` (registry, else cloud-init's user from the console, else the
/// config's default); a user starting with `-` is dropped rather than let
/// ssh read it as an option.
pub fn ssh_command(report: &VmReport) -> Option<String> {
    let ip = report.ipv4?;
    let mut cmd = String::from("ssh");
    if report.ssh_port != 22 {
        cmd.push_str(&format!(" -p {}", report.ssh_port));
    }
    let target = match report.ssh_user.as_deref().filter(|u| !u.is_empty() && !u.starts_with('-')) {
        Some(user) => format!("{user}@{ip}"),
        None => ip.to_string(),
    };
    cmd.push(' ');
    cmd.push_str(&shell_quote(&target));
    Some(cmd)
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
        assert_eq!(ssh_command(&report(Some("o'brien; rm -rf ~"), 22)).as_deref(), Some(r"ssh 'o'\''brien; rm -rf ~@192.168.1.23'"));
        assert_eq!(ssh_command(&report(Some("$(reboot)"), 22)).as_deref(), Some("ssh '$(reboot)@192.168.1.23'"));
        assert_eq!(ssh_command(&report(Some("-oProxyCommand=x"), 22)).as_deref(), Some("ssh 192.168.1.23"));
        let mut r = report(Some("ubuntu"), 22);
        r.ipv4 = None;
        assert_eq!(ssh_command(&r), None);
    }

    #[test]
    fn quoting_round_trips_through_sh() -> Result<(), Box<dyn std::error::Error>> {
        for s in ["plain", "with space", "it's", "$(echo pwned)", "a\nb", "`x`", "\"q\"", "", "ü nicode", "\\"] {
            let out = std::process::Command::new("sh").arg("-c").arg(format!("printf %s {}", shell_quote(s))).output()?;
            assert_eq!(String::from_utf8_lossy(&out.stdout), s);
        }
        Ok(())
    }
}
