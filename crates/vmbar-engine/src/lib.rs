//! # vmbar-engine: the truth about local QEMU VMs
//!
//! This crate is the detection engine of vmbar: no UI, no Tauri. Give it a
//! VMs folder (`~/vms/NAME/{console.log,qemu.pid}` plus `~/vms/registry.json`)
//! and it tells, for each VM, one of five statuses and the IPv4 confirmed for
//! the VM's **current boot**. The CLI (`vmbar`) and the tray app are thin
//! shells over it.
//!
//! ## The flow (one direction only)
//!
//! ```text
//! sources (files, kernel tables, resolver, sockets)        console, registry, neighbours, leases, dns, probe, process
//!   -> observations (typed facts with source, time, boot)   engine
//!   -> status (pure function of observations + previous)    status::decide
//!   -> events (status changes)                              engine, monitor
//!   -> CLI output / tray menu / window / notifications      (other crates)
//! ```
//!
//! ## Why several sources, and why "confirmed"
//!
//! Finding a bridged VM's IPv4 is surprisingly unreliable, so the engine asks
//! every source it has, best first, and believes none of them blindly:
//!
//! 1. **The serial console** ([`console`]): cloud-init prints a `ci-info` Net
//!    device info table once per boot. It is the guest's own word, tied to a
//!    boot by the boot boundaries in the log. But on a first boot it often
//!    shows only the IPv6 row (DHCPv4 had not finished), and a log may be
//!    truncated, wrapped or garbled; and the guest is untrusted.
//! 2. **The registry cache** ([`registry`]): fast, but written for an earlier
//!    boot; DHCP may have handed out another address since.
//! 3. **The neighbour table** ([`neighbours`], [`os`]): the host kernel's own
//!    IP -> MAC map, looked up by the VM's EUI-48 MAC ([`mac`]). Entries go
//!    stale, one MAC can sit at two addresses, and an address can move to
//!    another machine.
//! 4. **DNS** ([`dns`]): the router registers the VM's DHCP hostname. The
//!    record outlives the VM, and may answer with another NIC's address.
//! 5. **DHCP leases** ([`leases`]) where the host has them (macOS bootpd,
//!    libvirt/dnsmasq): leases outlive hard stops and may be keyed by a
//!    client id instead of the MAC.
//!
//! A hint becomes the VM's address only when it is **confirmed for the
//! current boot**: the address answered a probe ([`probe`]: a TCP connection
//! to the SSH port, which also makes the kernel resolve the neighbour entry)
//! and the neighbour table then maps it to the VM's MAC; or this boot's
//! console table names it for that MAC and nothing contradicts it (see
//! [`status`] for the exact rules). A boot ([`BootId`]) is one QEMU process
//! (pid and start time, from the pidfile and its lock: [`process`]) and one
//! guest boot inside it; nothing confirmed for an earlier boot counts.
//!
//! ## Statuses
//!
//! `missing` (no VM folder), `stopped` (no live QEMU), `initializing` (QEMU
//! up, no confirmed IPv4), `booting` (IPv4 confirmed, no SSH banner yet, or
//! cloud-init still running), `running` (IPv4 confirmed, SSH banner read).
//!
//! ## Using it
//!
//! [`config::load`] resolves the settings (flags > environment > file >
//! defaults); [`engine::Engine::refresh`] runs one refresh; [`monitor::spawn`]
//! keeps refreshing on file events and timers and publishes
//! [`monitor::Update`]s. All IO sits behind small traits ([`engine::Ports`]),
//! so every rule is testable without a VM. Parsers of every OS's formats
//! (macOS `arp -an` and its routing-message sysctl, bootpd leases, ...) compile and are tested on every OS;
//! only the system calls are gated by `cfg`.

pub mod addr;
pub mod config;
pub mod console;
pub mod dns;
pub mod engine;
pub mod leases;
pub mod mac;
pub mod neighbours;
pub mod os;
pub mod privacy;
pub mod probe;
pub mod programs;
pub mod process;
pub mod rate;
pub mod registry;
pub mod routes;
pub mod ssh;
pub mod status;
pub mod model;
pub mod monitor;

pub use mac::MacAddr;
pub use model::{BootId, Candidate, CloudInitStage, Note, Source, Status, StatusEvent, VmReport};
