//! Registry reader and write-back: `registry.json`, written by the user's own
//! tool (and by anyone who can write the VMs folder).
//!
//! Entry points are the engine's: [`registry::parse`] (what `registry::read`
//! does after reading the file) and, for inputs that parse, the real
//! [`registry::write_ip`] on a file in a RAM-backed temporary folder. The
//! write-back must either leave the file byte for byte as it was, or change
//! only `.vms[NAME].ip_address`: the result must parse, hold the new
//! address for that entry, and keep every other entry's view equal.
#![no_main]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use vmbar_engine::registry::{self, WriteOutcome};

static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let base = if Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    let dir = base.join(format!("vmbar-fuzz-registry-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    dir
});

fuzz_target!(|data: &[u8]| {
    let path = Path::new("registry.json");
    let Ok(reg) = registry::parse(path, data) else { return };
    // Write-back of each of the first few names (bounded: the file is fsynced).
    let file = DIR.join("registry.json");
    let ip = Ipv4Addr::new(10, 99, 0, 7);
    for name in reg.vms.keys().take(2) {
        std::fs::write(&file, data).expect("write fixture");
        let out = registry::write_ip(&file, name, ip);
        let after = std::fs::read(&file).expect("read back");
        match out {
            Ok(WriteOutcome::Written) => {
                let again = registry::parse(path, &after).expect("write-back produced a registry that does not parse");
                let mut want = reg.clone();
                let entry = want.vms.get_mut(name).expect("entry");
                // Only the ip_address changed: the problems about it go too.
                entry.ip_address = Some(ip);
                entry.problems.retain(|p| !p.contains("ip_address"));
                let mut got = again.clone();
                if let Some(e) = got.vms.get_mut(name) {
                    e.problems.retain(|p| !p.contains("ip_address"));
                }
                assert_eq!(got, want, "write-back changed more than .vms[{name:?}].ip_address");
            }
            Ok(WriteOutcome::Unchanged | WriteOutcome::NoEntry) | Err(_) => {
                assert_eq!(after, data, "file changed although write_ip did not write");
            }
        }
    }
});
