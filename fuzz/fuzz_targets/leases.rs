//! DHCP lease parsers: macOS bootpd `dhcpd_leases`, dnsmasq lease files,
//! libvirt `virbrN.status` JSON, `virsh net-dhcp-leases` tables and
//! dnsmasq-dhcp log lines.
//!
//! Entry points are the engine's: [`leases::parse`] on the lossily decoded
//! file (as `engine::read_leases` does), [`leases::parse_as`] for each
//! format, then the per-VM lookups `for_mac`, `for_name` and the lease rule
//! `LeaseFile::decide` (its current lease is never superseded, expired or
//! another MAC's).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vmbar_engine::leases::{self, LeaseFile, LeaseFormat, LeaseVerdict};

const FORMATS: [LeaseFormat; 5] = [
    LeaseFormat::Bootpd,
    LeaseFormat::Dnsmasq,
    LeaseFormat::LibvirtStatus,
    LeaseFormat::VirshNetDhcpLeases,
    LeaseFormat::DnsmasqLog,
];

fn check(f: &LeaseFile) {
    let now = 1_700_000_000;
    for l in f.leases.iter().take(32) {
        if let Some(mac) = l.mac {
            assert!(f.for_mac(mac, now).iter().all(|x| x.mac == Some(mac) || x.duid_mac == Some(mac)));
            let _ = f.ipv4_for(mac, now);
            for at in [None, Some(now)] {
                let d = f.decide(Some(mac), l.hostname.as_deref(), at);
                let current: Vec<_> = d.leases.iter().filter(|j| j.verdict == LeaseVerdict::Current).collect();
                assert!(current.len() <= 1);
                assert_eq!(current.first().map(|j| j.lease), d.current);
                if let Some(c) = d.current {
                    assert!(c.mac.is_none_or(|m| m == mac), "another MAC's lease is current");
                    assert!(at.is_none_or(|t| c.is_active(t)), "an expired lease is current");
                }
            }
        }
        if let Some(h) = &l.hostname {
            let _ = f.for_name(h, now);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let detected = leases::parse(&text);
    check(&detected);
    for f in FORMATS {
        check(&leases::parse_as(&text, f));
    }
});
