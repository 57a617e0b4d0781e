//! Console parser: the bytes a VM guest writes to its serial console
//! (`console.log`), which vmbar treats as untrusted.
//!
//! Entry points are the engine's: [`ConsoleParser::feed`] in chunks (as
//! `ConsoleTail::update` feeds appended bytes) and [`console::parse_all`]
//! (`vmbar inspect`). Properties checked on every input:
//! - chunked feeding gives the same view as one-shot parsing (a refresh
//!   boundary inside a line or a CRLF never changes the answer);
//! - every address offered for a MAC is a usable VM IPv4;
//! - no control character or escape sequence survives into any string
//!   that reaches the UI (device names, ssh users, cleaned lines).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vmbar_engine::addr::is_usable_vm_ipv4;
use vmbar_engine::console::{self, ConsoleParser};

fn no_controls(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() && c != '\t')
}

fuzz_target!(|data: &[u8]| {
    let whole = console::parse_all(data);

    // Chunk sizes taken from the input itself, 1..=97 bytes.
    let mut chunked = ConsoleParser::new();
    let mut rest = data;
    let mut k = 0usize;
    while !rest.is_empty() {
        let n = (usize::from(data[k % data.len()]) % 97 + 1).min(rest.len());
        chunked.feed(&rest[..n]);
        rest = &rest[n..];
        k += 1;
    }
    chunked.finish();
    assert_eq!(whole.current(), chunked.current(), "chunked feeding changed the view");
    assert_eq!(whole.boundaries(), chunked.boundaries());
    assert_eq!(whole.position(), data.len() as u64);

    let view = whole.current();
    if let Some(t) = &view.table {
        for mac in t.macs() {
            for ip in t.ipv4_for(mac) {
                assert!(is_usable_vm_ipv4(ip), "{ip} offered for {mac}");
            }
        }
        for row in &t.rows {
            assert!(no_controls(&row.device), "control character in device {:?}", row.device);
        }
    }
    for u in &view.ssh_users {
        assert!(no_controls(u) && !u.contains('\t'), "control character in ssh user {u:?}");
    }
    let _ = view.ssh_user();
    for t in whole.all_tables() {
        for row in &t.rows {
            assert!(no_controls(&row.device));
        }
    }
    let text = String::from_utf8_lossy(data);
    assert!(no_controls(&console::clean_line(&text)), "clean_line let a control character through");
});
