//! # vmbar-engine: the truth about local QEMU VMs
//!
//! (crate essay: see the end of this file's history; written with the engine)

pub mod addr;
pub mod config;
pub mod console;
pub mod dns;
pub mod engine;
pub mod leases;
pub mod mac;
pub mod neighbours;
pub mod os;
pub mod probe;
pub mod process;
pub mod registry;
pub mod ssh;
pub mod status;
pub mod model;
pub mod monitor;

pub use mac::MacAddr;
pub use model::{BootId, Candidate, CloudInitStage, Source, Status, StatusEvent, VmReport};
