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

/// Runs the inspection and prints pretty JSON. Returns the exit code (2 for a bad --mac).
///
/// # Errors
/// When the file cannot be read.
pub fn run(kind: Kind, file: &Path, mac: Option<&str>, name: Option<&str>) -> anyhow::Result<u8> {
    let mac = match mac.map(str::parse::<MacAddr>) {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            eprintln!("vmbar: --mac: {e}");
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
            let now = chrono::Utc::now().timestamp();
            // Captured files are usually old: every lease in the file counts here; each
            // lease says whether it has expired by now (the engine only uses unexpired ones).
            let by_mac: Vec<&leases::Lease> = mac.map(|m| f.for_mac(m, i64::MIN)).unwrap_or_default();
            let by_name: Vec<&leases::Lease> = name.map(|n| f.for_name(n, i64::MIN)).unwrap_or_default();
            let mut all: Vec<Ipv4Addr> = Vec::new();
            let chosen = if mac.is_some() { &by_mac } else { &by_name };
            for l in chosen.iter() {
                if !all.contains(&l.ip) {
                    all.push(l.ip);
                }
            }
            let ipv4 = if mac.is_some() { single(&all) } else { by_name.first().map(|l| l.ip) };
            let describe = |l: &leases::Lease| {
                json!({
                    "ipv4": l.ip, "mac": l.mac, "hostname": l.hostname, "client_id": l.client_id,
                    "expires": l.expires, "expired_now": l.expires.is_some_and(|e| e < now),
                })
            };
            json!({
                "kind": "leases",
                "format": f.format.map(|x| format!("{x:?}")),
                "mac": mac,
                "name": name,
                "ipv4": ipv4,
                "ipv4_all": all,
                "leases_for_mac": by_mac.iter().map(|l| describe(l)).collect::<Vec<_>>(),
                "leases_for_name": by_name.iter().map(|l| describe(l)).collect::<Vec<_>>(),
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
