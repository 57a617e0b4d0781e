//! The EUI-48 MAC address type, parsed from every spelling the sources use.
//!
//! No crate accepts all of these, so this type is ours:
//!
//! | spelling | where it comes from |
//! |---|---|
//! | `52:54:00:15:7a:e3` | Linux `/proc/net/arp`, `ip neigh`, cloud-init's ci-info table, QEMU `mac=` |
//! | `52:54:0:15:7a:e3` | macOS `arp(8)`, `ndp(8)` and bootpd's `/var/db/dhcpd_leases` (leading zeros stripped per octet) |
//! | `52:54:00:15:7A:E3` | upper case, from user-written files |
//! | `52-54-00-15-7a-e3` | dashes (Windows style, some lease tools) |
//! | `1,52:54:0:15:7a:e3` | bootpd `hw_address=` with the ARP hardware-type prefix (1 = Ethernet) |
//!
//! Comparison is always on the six bytes, never on text.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

/// A 6-byte EUI-48 MAC address.
///
/// `Display` prints the canonical lower-case, zero-padded, colon form
/// (`52:54:00:15:7a:e3`); serde uses the same text form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

/// Why a text is not a MAC address (returned by [`MacAddr::from_str`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacParseError {
    /// The text does not have exactly six octets separated by `:` or `-`.
    #[error("expected 6 octets separated by ':' or '-', found {0}")]
    OctetCount(usize),
    /// An octet is empty, longer than two hex digits, or not hexadecimal.
    #[error("octet {0:?} is not 1 or 2 hexadecimal digits")]
    BadOctet(String),
}

impl MacAddr {
    /// The all-zero address `00:00:00:00:00:00`, which kernels print for
    /// incomplete neighbour entries; it never identifies a VM.
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// True for `00:00:00:00:00:00`.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    /// True for group (multicast or broadcast) addresses: the I/G bit of the
    /// first octet is set (IEEE 802-2014 §8.2). A VM NIC never has one.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// True when the address can name a VM's NIC: not zero, not group.
    pub fn is_unicast(&self) -> bool {
        !self.is_zero() && !self.is_multicast()
    }

    /// Recovers the MAC from an EUI-64 based IPv6 interface identifier
    /// (RFC 4291 appendix A), e.g. `fe80::5054:ff:fe12:3456` gives
    /// `52:54:00:12:34:56`. Returns `None` when the identifier does not have
    /// the `ff:fe` marker in its middle (privacy or stable-private addresses).
    pub fn from_eui64(addr: &Ipv6Addr) -> Option<MacAddr> {
        let o = addr.octets();
        if o[11] != 0xff || o[12] != 0xfe {
            return None;
        }
        Some(MacAddr([o[8] ^ 0x02, o[9], o[10], o[13], o[14], o[15]]))
    }

    /// Parses the MAC out of a bootpd/DHCP `hw_address` or client-id style
    /// value: an optional `1,` hardware-type prefix, then a MAC in any
    /// spelling accepted by [`MacAddr::from_str`]. Returns `None` for other
    /// hardware types (`ff,` DUID client ids) or malformed text.
    pub fn from_hw_address(text: &str) -> Option<MacAddr> {
        let text = text.trim();
        let rest = match text.split_once(',') {
            Some(("1", rest)) => rest,
            Some(_) => return None,
            None => text,
        };
        rest.parse().ok()
    }
}

impl FromStr for MacAddr {
    type Err = MacParseError;

    /// Accepts six 1- or 2-digit hex octets separated by `:` or `-`, in any
    /// case, surrounded by optional whitespace.
    ///
    /// # Errors
    /// [`MacParseError::OctetCount`] for the wrong number of octets,
    /// [`MacParseError::BadOctet`] for an octet that is not hex.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let mut out = [0u8; 6];
        let mut n = 0usize;
        for part in s.split([':', '-']) {
            if n == 6 {
                return Err(MacParseError::OctetCount(s.split([':', '-']).count()));
            }
            if part.is_empty() || part.len() > 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(MacParseError::BadOctet(part.chars().take(8).collect()));
            }
            out[n] = u8::from_str_radix(part, 16).map_err(|_| MacParseError::BadOctet(part.to_owned()))?;
            n += 1;
        }
        if n != 6 {
            return Err(MacParseError::OctetCount(n));
        }
        Ok(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddr({self})")
    }
}

impl serde::Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for MacAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling_to_the_same_bytes() {
        let want = MacAddr([0x52, 0x54, 0x00, 0x15, 0x7a, 0xe3]);
        for s in ["52:54:00:15:7a:e3", "52:54:0:15:7a:e3", "52:54:00:15:7A:E3", "52-54-00-15-7a-e3", " 52:54:0:15:7a:e3\n"] {
            assert_eq!(s.parse::<MacAddr>(), Ok(want), "{s}");
        }
        assert_eq!(MacAddr::from_hw_address("1,52:54:0:15:7a:e3"), Some(want));
        assert_eq!(want.to_string(), "52:54:00:15:7a:e3");
    }

    #[test]
    fn macos_fully_stripped_octets() {
        assert_eq!("0:c:29:3a:d:7e".parse::<MacAddr>().map(|m| m.to_string()), Ok("00:0c:29:3a:0d:7e".into()));
        assert_eq!("2:b3:bb:1d:2c:14".parse::<MacAddr>().map(|m| m.to_string()), Ok("02:b3:bb:1d:2c:14".into()));
    }

    #[test]
    fn rejects_malformed() {
        for s in ["", "52:54:00:15:7a", "52:54:00:15:7a:e3:00", "52:54:00:15:7a:g3", "52:54:00:15:7a:123", "525400157ae3", "52:54:00:15:7a:e3:", "52::00:15:7a:e3", "(incomplete)", "<incomplete>", "."] {
            let r = s.parse::<MacAddr>();
            assert!(r.is_err(), "{s:?} parsed as {r:?}");
        }
        assert_eq!(MacAddr::from_hw_address("ff,1:2:3"), None);
    }

    #[test]
    fn eui64_link_local_gives_mac() {
        let a: Ipv6Addr = "fe80::5054:ff:fe12:3456".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        assert_eq!(MacAddr::from_eui64(&a).map(|m| m.to_string()), Some("52:54:00:12:34:56".into()));
        let p: Ipv6Addr = "fe80::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        assert_eq!(MacAddr::from_eui64(&p), None);
    }

    #[test]
    fn unicast_checks() {
        assert!(!MacAddr::ZERO.is_unicast());
        assert!("1:0:5e:0:0:fb".parse::<MacAddr>().map(|m| m.is_multicast()).unwrap_or(false));
        assert!("ff:ff:ff:ff:ff:ff".parse::<MacAddr>().map(|m| !m.is_unicast()).unwrap_or(false));
        assert!("52:54:00:15:7a:e3".parse::<MacAddr>().map(|m| m.is_unicast()).unwrap_or(false));
    }
}
