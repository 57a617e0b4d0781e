//! `vmbar inspect console|neighbours|leases FILE|-`: what vmbar sees in one
//! captured file, as JSON. The user's tool for "why doesn't vmbar see my IP?".

use std::io::Read;
use std::net::Ipv4Addr;
use std::path::Path;

use anyhow::Context;
use clap::ValueEnum;
use serde_json::json;
use vmbar_engine::{console, leases, neighbours, MacAddr};

/// What kind of file is inspected.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Kind {
    /// A serial console log (cloud-init ci-info tables, CirrOS if-info)
    Console,
    /// A neighbour table: /proc/net/arp, ip neigh, arp -an / arp -a (Linux, macOS), ndp -an
    Neighbours,
    /// DHCP leases: macOS dhcpd_leases, dnsmasq leases, libvirt .status, virsh net-dhcp-leases
    Leases,
}

/// The most `inspect` reads (256 MiB): a captured table or log is far smaller;
/// `/dev/zero` piped in must not eat the machine's memory.
const MAX_INPUT: u64 = 256 << 20;

fn read_input(file: &Path) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if file == Path::new("-") {
        std::io::stdin().take(MAX_INPUT + 1).read_to_end(&mut buf).context("cannot read standard input")?;
    } else {
        let meta = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
        if !meta.is_file() {
            anyhow::bail!("{} is not a regular file (use - to read standard input)", file.display());
        }
        std::fs::File::open(file).and_then(|f| f.take(MAX_INPUT + 1).read_to_end(&mut buf)).with_context(|| format!("cannot read {}", file.display()))?;
    }
    if buf.len() as u64 > MAX_INPUT {
        anyhow::bail!("input larger than 256 MiB: not a captured file vmbar can inspect");
    }
    Ok(buf)
}

fn single(all: &[Ipv4Addr]) -> Option<Ipv4Addr> {
    if all.len() == 1 {
        Some(all[0])
    } else {
        None
    }
}

/// Runs the inspection and prints pretty JSON. Returns the exit code (2 for
/// a bad `--mac` or `--at`). `at` (RFC 3339, leases only) is the time at which
/// lease expiry is judged; without it expiry is not judged.
///
/// # Errors
/// When the file cannot be read.
pub fn run(kind: Kind, file: &Path, mac: Option<&str>, name: Option<&str>, at: Option<&str>) -> anyhow::Result<u8> {
    let mac = match mac.map(str::parse::<MacAddr>) {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            eprintln!("vmbar: --mac: {e}");
            return Ok(2);
        }
    };
    if at.is_some() && !matches!(kind, Kind::Leases) {
        eprintln!("vmbar: --at applies to leases only");
        return Ok(2);
    }
    let at = match at.map(chrono::DateTime::parse_from_rfc3339) {
        None => None,
        Some(Ok(t)) => Some(t.timestamp()),
        Some(Err(e)) => {
            eprintln!("vmbar: --at: not an RFC 3339 time such as 2025-01-11T19:00:00Z: {e}");
            return Ok(2);
        }
    };
    let bytes = read_input(file)?;
    let value = match kind {
        Kind::Console => {
            let p = console::parse_all(&bytes);
            let boot = p.current();
            let table = boot.table.as_ref();
            let all = match (table, mac) {
                (Some(t), Some(m)) => t.ipv4_for(m),
                _ => Vec::new(),
            };
            let macs: Vec<String> = table.map(|t| t.macs().iter().map(ToString::to_string).collect()).unwrap_or_default();
            json!({
                "kind": "console",
                "mac": mac,
                "ipv4": single(&all),
                "ipv4_all": all,
                "macs_seen": macs,
                "boots_seen": p.boundaries() + 1,
                "current_boot_starts_at_byte": boot.start,
                "table_found": table.is_some(),
                "table": table,
                "cloud_init": boot.cloud_init,
                "cloud_init_finished": boot.cloud_init == vmbar_engine::CloudInitStage::Finished,
                "ssh_user": boot.ssh_user(),
                "lines": p.lines(),
            })
        }
        Kind::Neighbours => {
            let text = String::from_utf8_lossy(&bytes);
            let t = neighbours::parse(&text);
            let all = mac.map(|m| t.ipv4_for(m)).unwrap_or_default();
            let mut macs: Vec<String> = t.entries.iter().filter_map(|e| e.mac.map(|m| m.to_string())).collect();
            macs.sort();
            macs.dedup();
            json!({
                "kind": "neighbours",
                "format": t.format.map(|f| format!("{f:?}")),
                "mac": mac,
                "ipv4": single(&all),
                "ipv4_all": all,
                "ambiguous": all.len() > 1,
                "macs_seen": macs,
                "entries": t.entries.len(),
                "skipped_lines": t.skipped_lines,
            })
        }
        Kind::Leases => {
            let text = String::from_utf8_lossy(&bytes);
            let f = leases::parse(&text);
            // The engine's own rule (LeaseFile::decide). Captured files are usually old, so expiry
            // is judged only at --at; supersession always is.
            let d = f.decide(mac, name, at);
            let rfc3339 = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            let lease_json = |l: &leases::Lease| {
                json!({
                    "ipv4": l.ip, "mac": l.mac, "hostname": l.hostname, "client_id": l.client_id, "duid_mac": l.duid_mac,
                    "expires": l.expires, "expires_at": l.expires.and_then(rfc3339),
                })
            };
            let judged: Vec<serde_json::Value> = d
                .leases
                .iter()
                .map(|j| {
                    let mut v = lease_json(j.lease);
                    v["matched_by"] = json!(j.matched.as_str());
                    v["verdict"] = json!(j.verdict.as_str());
                    if let leases::LeaseVerdict::Superseded { by } = j.verdict {
                        v["superseded_by"] = lease_json(by);
                    }
                    v
                })
                .collect();
            let current = d.current.map(|l| l.ip);
            json!({
                "kind": "leases",
                "format": f.format.map(|x| format!("{x:?}")),
                "mac": mac,
                "name": name,
                "at": at.and_then(rfc3339),
                "expiry_judged": at.is_some(),
                "ipv4": current,
                "ipv4_all": current.into_iter().collect::<Vec<Ipv4Addr>>(),
                "leases_for_vm": judged,
                "leases": f.leases.len(),
                "skipped": f.skipped,
            })
        }
    };
    let mut out = std::io::stdout().lock();
    let text = crate::output::json_safe(&serde_json::to_string_pretty(&value)?);
    std::io::Write::write_all(&mut out, text.as_bytes())?;
    std::io::Write::write_all(&mut out, b"\n")?;
    Ok(0)
}
