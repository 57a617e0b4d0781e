//! Builders of engine values for the app's unit tests.

use vmbar_engine::{BootId, CloudInitStage, Status, StatusEvent, VmReport};

/// A report with the given name, status and confirmed IPv4 (`None`: no IP), port 22, no user.
pub fn vm(name: &str, status: Status, ip: Option<&str>) -> VmReport {
    let ipv4 = ip.map(|s| s.parse().expect("test IPv4"));
    VmReport {
        name: name.into(),
        status,
        ipv4,
        source: ipv4.map(|_| vmbar_engine::Source::Neighbours),
        confirmed: ipv4.is_some(),
        candidate: None,
        mac: None,
        ssh_user: None,
        ssh_port: 22,
        since: chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("valid time"),
        detail: None,
        boot: None,
        cloud_init: CloudInitStage::NotSeen,
        notes: Vec::new(),
    }
}

/// An event `from -> to` of `name` in `boot`.
pub fn ev(name: &str, from: Option<Status>, to: Status, boot: Option<BootId>) -> StatusEvent {
    StatusEvent { name: name.into(), from, to, ipv4: None, at: chrono::Utc::now(), boot }
}
