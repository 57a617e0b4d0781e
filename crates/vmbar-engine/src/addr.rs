//! Which IPv4 addresses can be a VM's address on the LAN.

use std::net::Ipv4Addr;

/// True when `ip` can be a VM's reachable unicast IPv4 address.
///
/// Rejects `0.0.0.0/8` ("this network", RFC 1122), loopback `127.0.0.0/8`
/// (vmbar never takes a loopback address as a VM's: see the network-safety
/// rule in the README), link-local `169.254.0.0/16` (RFC 3927, where the
/// cloud metadata service lives), multicast `224.0.0.0/4`, and the reserved
/// `240.0.0.0/4` block, which holds the limited broadcast 255.255.255.255 and
/// every netmask a garbled table could put in the address column
/// (`255.255.255.0`). Private and public ranges are both accepted: a bridged
/// VM may have any of them.
pub fn is_usable_vm_ipv4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(o[0] == 0 || ip.is_loopback() || ip.is_link_local() || ip.is_multicast() || o[0] >= 240)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_non_vm_addresses() {
        for bad in ["0.0.0.0", "0.1.2.3", "127.0.0.1", "127.9.9.9", "169.254.169.254", "224.0.0.251", "239.1.1.1", "255.255.255.255", "255.255.255.0", "240.0.0.1"] {
            assert!(!is_usable_vm_ipv4(bad.parse().unwrap_or(Ipv4Addr::LOCALHOST)), "{bad}");
        }
        for good in ["10.0.2.15", "192.168.1.23", "198.51.100.136", "172.16.0.5", "100.64.1.1", "1.1.1.1"] {
            assert!(is_usable_vm_ipv4(good.parse().unwrap_or(Ipv4Addr::LOCALHOST)), "{good}");
        }
    }
}
