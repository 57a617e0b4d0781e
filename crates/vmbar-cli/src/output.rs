//! Printing: the status table, watch lines, and escaping of anything a VM or
//! its guest controls (names, details) so that no control character reaches
//! the terminal raw.

use std::io::{self, Write};

use serde::Serialize;
use vmbar_engine::{StatusEvent, VmReport};

/// True for characters that change how a terminal shows the rest of a line:
/// C0/C1 controls and DEL, bidi overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069, a "Trojan Source" vector) and zero-width characters.
fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Escapes control, bidi and zero-width characters as `\u{..}`-style text;
/// everything else, unicode included, is shown as is.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_dangerous(c) {
            out.push_str(&c.escape_default().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// JSON text with the characters serde_json leaves raw but a terminal may act
/// on (DEL, C1 controls such as U+009B, bidi and zero-width characters) written
/// as `\uXXXX` escapes; they can only occur inside JSON strings, so the
/// document means the same.
pub fn json_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_dangerous(c) && !c.is_ascii_control() || c == '\u{7f}' {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The rows to print: all, or the NAMEs asked for (a NAME that is nowhere is a `missing` row).
pub fn select(vms: &[VmReport], names: &[String]) -> Vec<VmReport> {
    if names.is_empty() {
        return vms.to_vec();
    }
    let mut out: Vec<VmReport> = names
        .iter()
        .map(|n| {
            vms.iter().find(|v| &v.name == n).cloned().unwrap_or_else(|| VmReport {
                name: n.clone(),
                status: vmbar_engine::Status::Missing,
                ipv4: None,
                source: None,
                confirmed: false,
                candidate: None,
                mac: None,
                ssh_user: None,
                ssh_port: 22,
                since: chrono::Utc::now(),
                detail: Some("no such VM (no VM folder: none with console.log, qemu.pid or a disk image; no registry entry)".into()),
                boot: None,
                cloud_init: vmbar_engine::CloudInitStage::NotSeen,
                notes: Vec::new(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    out
}

/// The human table: NAME STATUS IPV4 SOURCE DETAIL.
pub fn table(out: &mut impl Write, rows: &[VmReport]) -> io::Result<()> {
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|v| {
            let ip = match (v.ipv4, v.candidate) {
                (Some(ip), _) => ip.to_string(),
                (None, Some(c)) => format!("({} ?)", c.ipv4),
                (None, None) => "-".into(),
            };
            let source = match (v.source, v.candidate) {
                (Some(s), _) => s.to_string(),
                (None, Some(c)) => format!("{} (unconfirmed)", c.source),
                _ => "-".into(),
            };
            [escape(&v.name), v.status.to_string(), ip, source, escape(v.detail.as_deref().unwrap_or(""))]
        })
        .collect();
    let head = ["NAME", "STATUS", "IPV4", "SOURCE", "DETAIL"];
    let mut w = [0usize; 4];
    for (i, h) in head.iter().take(4).enumerate() {
        w[i] = cells.iter().map(|c| c[i].chars().count()).chain([h.len()]).max().unwrap_or(0);
    }
    let line = |out: &mut dyn Write, c: [&str; 5]| -> io::Result<()> {
        let mut s = String::new();
        for i in 0..4 {
            s.push_str(c[i]);
            s.push_str(&" ".repeat(w[i] - c[i].chars().count() + 2));
        }
        s.push_str(c[4]);
        writeln!(out, "{}", s.trim_end())
    };
    line(out, head)?;
    for c in &cells {
        line(out, [&c[0], &c[1], &c[2], &c[3], &c[4]])?;
    }
    if rows.is_empty() {
        writeln!(out, "(no VMs)")?;
    }
    Ok(())
}

#[derive(Serialize)]
struct EventLine<'a> {
    name: &'a str,
    from: Option<vmbar_engine::Status>,
    to: vmbar_engine::Status,
    ipv4: Option<std::net::Ipv4Addr>,
    at: String,
}

/// One JSON line {name, from, to, ipv4, at}.
pub fn event_json(out: &mut impl Write, ev: &StatusEvent) -> io::Result<()> {
    let line = EventLine { name: &ev.name, from: ev.from, to: ev.to, ipv4: ev.ipv4, at: ev.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true) };
    writeln!(out, "{}", json_safe(&serde_json::to_string(&line)?))
}

/// One human line: `TIME NAME from -> to IPV4`.
pub fn event_line(out: &mut impl Write, ev: &StatusEvent) -> io::Result<()> {
    let from = ev.from.map(|f| format!("{f} -> ")).unwrap_or_default();
    let ip = ev.ipv4.map(|i| format!("  {i}")).unwrap_or_default();
    writeln!(out, "{}  {}  {from}{}{ip}", ev.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), escape(&ev.name), ev.to)
}
