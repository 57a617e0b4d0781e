//! DNS: the VM's hostname through the system resolver.
//!
//! `getaddrinfo(3)` (through `tokio::net::lookup_host`), not `nslookup`: on
//! macOS only the system resolver applies mDNSResponder, `/etc/resolver/*`,
//! `/etc/hosts` and search domains (macOS `nslookup` bypasses them). A lookup
//! is bounded by a timeout; a lookup that outlives it keeps running in the
//! background and no second one for the same name starts until it ends.

use std::net::{IpAddr, Ipv4Addr};

use crate::addr::is_usable_vm_ipv4;
use crate::probe::BoxFuture;

/// Resolves a hostname to IPv4 addresses. Behind a trait so tests can fake answers.
pub trait Resolver: Send + Sync {
    /// All IPv4 addresses for `name` (any order, possibly empty), or a message on failure.
    fn lookup(&self, name: String) -> BoxFuture<Result<Vec<Ipv4Addr>, String>>;
}

/// The system resolver (getaddrinfo).
#[derive(Debug, Default, Clone)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup(&self, name: String) -> BoxFuture<Result<Vec<Ipv4Addr>, String>> {
        Box::pin(async move {
            match tokio::net::lookup_host((name.as_str(), 0)).await {
                Ok(addrs) => {
                    let mut out = Vec::new();
                    for a in addrs {
                        if let IpAddr::V4(v4) = a.ip() {
                            if !out.contains(&v4) {
                                out.push(v4);
                            }
                        }
                    }
                    Ok(out)
                }
                Err(e) => Err(e.to_string()),
            }
        })
    }
}

/// True when `name` is a valid DNS hostname (RFC 1123 labels, at most 253
/// bytes). VM names that are not (spaces, quotes, `$(...)`) are never looked up.
pub fn is_valid_hostname(name: &str) -> bool {
    let n = name.strip_suffix('.').unwrap_or(name);
    !n.is_empty()
        && n.len() <= 253
        && n.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Keeps the addresses that can be a VM's (drops loopback such as Debian's
/// `127.0.1.1 hostname` line in `/etc/hosts`, link-local, multicast).
pub fn usable(addrs: &[Ipv4Addr]) -> Vec<Ipv4Addr> {
    addrs.iter().copied().filter(|a| is_usable_vm_ipv4(*a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        for ok in ["fargo", "fargo.lan", "vm-1.home.arpa", "a.", "x1"] {
            assert!(is_valid_hostname(ok), "{ok}");
        }
        for bad in ["", "my vm", "a;b", "$(x)", "-x", "x-", "a..b", "ünï", "a/b", &"x".repeat(64)] {
            assert!(!is_valid_hostname(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn localhost_resolves_but_is_not_usable() {
        let r = SystemResolver.lookup("localhost".into()).await;
        let addrs = r.unwrap_or_default();
        assert!(usable(&addrs).is_empty(), "{addrs:?}");
    }
}
