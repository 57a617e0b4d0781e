//! The host's neighbour table and DHCP lease files: the IO adapters behind
//! the sans-IO parsers in [`crate::neighbours`] and [`crate::leases`].
//!
//! Linux reads `/proc/net/arp` (`proc(5)`; no process spawned). macOS reads
//! the kernel's table as `arp(8)` itself does, through the sysctl
//! `{CTL_NET, PF_ROUTE, 0, AF_INET, NET_RT_FLAGS, RTF_LLINFO}`
//! ([`read_route_sysctl`], parsed by [`neighbours::parse_route_sysctl`]); only
//! when that read fails does it run `/usr/sbin/arp -an` (`-n` because
//! `arp -a` reverse-resolves every name and can hang), with a timeout, killed
//! when it expires. Other systems run `arp -an`. `[neighbours] command` in the
//! config replaces the default on any OS (tests use it to simulate a hung
//! `arp`). No shell is involved: the command is an argv.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::neighbours::{self, NeighbourTable};
use crate::probe::BoxFuture;

/// Reads the host's neighbour table. Behind a trait so tests can fake it.
pub trait NeighbourSource: Send + Sync {
    /// The current table, or a message saying why it could not be read.
    fn read(&self) -> BoxFuture<Result<NeighbourTable, String>>;
}

/// The real neighbour table of this OS (or the configured command).
#[derive(Debug, Clone)]
pub struct OsNeighbours {
    /// `[neighbours] command`, else the OS default.
    pub command: Option<Vec<String>>,
    /// Timeout for the command.
    pub timeout: Duration,
}

impl NeighbourSource for OsNeighbours {
    fn read(&self) -> BoxFuture<Result<NeighbourTable, String>> {
        let me = self.clone();
        Box::pin(async move {
            let mut sysctl_error: Option<String> = None;
            let argv = match me.command {
                Some(argv) => argv,
                None if cfg!(target_os = "linux") => {
                    return tokio::fs::read_to_string("/proc/net/arp")
                        .await
                        .map(|t| neighbours::parse_as(&t, neighbours::NeighbourFormat::ProcNetArp))
                        .map_err(|e| format!("cannot read /proc/net/arp: {e}"));
                }
                None => match route_sysctl_table().await {
                    Some(Ok(t)) => return Ok(t),
                    Some(Err(e)) => {
                        sysctl_error = Some(e);
                        vec!["/usr/sbin/arp".into(), "-an".into()]
                    }
                    None => vec!["/usr/sbin/arp".into(), "-an".into()],
                },
            };
            run_command(&argv, me.timeout).await.map(|t| neighbours::parse(&t)).map_err(|e| match sysctl_error {
                Some(s) => format!("{s}; then {e}"),
                None => e,
            })
        })
    }
}

/// macOS: [`read_route_sysctl`] off the async runtime; `None` elsewhere (no such sysctl).
#[cfg(target_os = "macos")]
async fn route_sysctl_table() -> Option<Result<NeighbourTable, String>> {
    Some(tokio::task::spawn_blocking(read_route_sysctl).await.unwrap_or_else(|e| Err(format!("the sysctl read did not finish: {e}"))))
}

/// macOS: [`read_route_sysctl`] off the async runtime; `None` elsewhere (no such sysctl).
#[cfg(not(target_os = "macos"))]
async fn route_sysctl_table() -> Option<Result<NeighbourTable, String>> {
    None
}

/// macOS: the IPv4 neighbour table from the kernel, read as `arp(8)` reads it
/// (network_cmds `arp.c` `search()`): the sysctl
/// [`neighbours::rt::ARP_MIB`] (`net.route.0.2.2.1024`) returns the
/// `RTF_LLINFO` routes as routing messages, parsed by
/// [`neighbours::parse_route_sysctl`]. The read goes through the `sysctl`
/// crate (`Ctl::Oid(..).value()`, a raw MIB read: it asks the node's format,
/// then sizes and reads the buffer, truncating to what the kernel wrote);
/// a table that grew between its size query and its read (`ENOMEM`) is read
/// again, up to 4 times.
///
/// # Errors
/// A message naming the MIB and the last error (the caller then runs `arp -an`).
#[cfg(target_os = "macos")]
pub fn read_route_sysctl() -> Result<NeighbourTable, String> {
    use sysctl::Sysctl;
    let ctl = sysctl::Ctl::Oid(neighbours::rt::ARP_MIB.to_vec());
    let mut last = String::new();
    for _ in 0..4 {
        match ctl.value() {
            Ok(sysctl::CtlValue::Node(bytes) | sysctl::CtlValue::Struct(bytes)) => return Ok(neighbours::parse_route_sysctl(&bytes)),
            Ok(_) => return Err("sysctl net.route.0.2.2.1024 (NET_RT_FLAGS, RTF_LLINFO) did not answer with routing messages".into()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("sysctl net.route.0.2.2.1024 (NET_RT_FLAGS, RTF_LLINFO) failed: {last}"))
}

/// Runs `argv` (no shell) and returns its stdout, killing it after `timeout`.
///
/// # Errors
/// A message when it cannot start, exits non-zero, or times out.
pub async fn run_command(argv: &[String], timeout: Duration) -> Result<String, String> {
    let (prog, args) = argv.split_first().ok_or("empty command")?;
    let mut cmd = tokio::process::Command::new(prog);
    cmd.args(args).stdin(std::process::Stdio::null()).stderr(std::process::Stdio::null()).kill_on_drop(true);
    match tokio::time::timeout(timeout, cmd.output()).await {
        Err(_) => Err(format!("{prog} did not finish within {} ms (killed)", timeout.as_millis())),
        Ok(Err(e)) => Err(format!("cannot run {prog}: {e}")),
        Ok(Ok(out)) if !out.status.success() => Err(format!("{prog} failed ({})", out.status)),
        Ok(Ok(out)) => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
    }
}

/// The lease files to read: the configured ones, plus macOS bootpd's
/// `/var/db/dhcpd_leases` when it exists.
pub fn lease_files(configured: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = configured.to_vec();
    let bootpd = Path::new("/var/db/dhcpd_leases");
    if cfg!(target_os = "macos") && bootpd.exists() && !out.iter().any(|p| p == bootpd) {
        out.push(bootpd.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hung_command_is_killed_at_the_timeout() {
        let t0 = std::time::Instant::now();
        let r = run_command(&["sleep".into(), "30".into()], Duration::from_millis(200)).await;
        assert!(r.as_ref().is_err_and(|e| e.contains("did not finish")), "{r:?}");
        assert!(t0.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn configured_command_output_is_parsed() {
        let argv = vec!["printf".into(), "? (10.1.2.3) at 52:54:0:15:7a:e3 on en0 ifscope [ethernet]\\n".into()];
        let t = OsNeighbours { command: Some(argv), timeout: Duration::from_secs(5) }.read().await;
        let mac = "52:54:00:15:7a:e3".parse().unwrap_or(crate::mac::MacAddr::ZERO);
        assert_eq!(t.map(|t| t.ipv4_for(mac)), Ok(vec![std::net::Ipv4Addr::new(10, 1, 2, 3)]));
    }
}
