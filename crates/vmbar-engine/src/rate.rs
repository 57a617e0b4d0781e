//! The one rate limit on what a guest can make vmbar do again and again.
//!
//! A guest controls its console: it can print a kernel banner (`Linux version ...`) whenever it
//! likes, and every new boot re-arms the "NAME is ready" notification and the registry
//! write-back of the address confirmed for it. So both are limited per VM to one per
//! [`GUEST_TRIGGERED_INTERVAL`]: the registry write-back in [`crate::engine`] (a deferred write
//! happens on the first refresh after the interval), the ready notification in the tray app's
//! `notify_rule` (a boot announced inside the interval is remembered, not notified). The
//! interval is a constant, not a setting: it only bounds a misbehaving guest, and a real VM does
//! not reboot into a new address more than once a minute.

use std::time::{Duration, Instant};

/// At most one guest-triggered action of a kind per VM in this long (60 s).
pub const GUEST_TRIGGERED_INTERVAL: Duration = Duration::from_secs(60);

/// The memory of one VM's last allowed action of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    last: Option<Instant>,
}

impl RateLimit {
    /// A limit that allows the first action at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when nothing was allowed yet, or the last allowed action is at least
    /// [`GUEST_TRIGGERED_INTERVAL`] before `now`; it then counts as allowed at `now`. A clock
    /// that goes backwards (an `Instant` before the last one) is not allowed.
    pub fn allow_at(&mut self, now: Instant) -> bool {
        let ok = match self.last {
            None => true,
            Some(last) => now.checked_duration_since(last).is_some_and(|d| d >= GUEST_TRIGGERED_INTERVAL),
        };
        if ok {
            self.last = Some(now);
        }
        ok
    }

    /// [`RateLimit::allow_at`] now.
    pub fn allow(&mut self) -> bool {
        self.allow_at(Instant::now())
    }

    /// True when [`RateLimit::allow_at`] would allow an action at `now` (nothing is recorded).
    pub fn would_allow_at(&self, now: Instant) -> bool {
        self.clone().allow_at(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_interval() {
        let t0 = Instant::now();
        let mut r = RateLimit::new();
        assert!(r.allow_at(t0));
        assert!(!r.allow_at(t0 + Duration::from_secs(1)));
        assert!(!r.would_allow_at(t0 + Duration::from_secs(59)));
        assert!(!r.allow_at(t0 + Duration::from_secs(59)), "a refused action does not move the window");
        assert!(r.allow_at(t0 + GUEST_TRIGGERED_INTERVAL));
        assert!(!r.allow_at(t0 + GUEST_TRIGGERED_INTERVAL + Duration::from_secs(30)));
        assert!(!r.allow_at(t0), "a clock that goes backwards is refused");
    }
}
