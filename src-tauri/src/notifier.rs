//! Sends the notices of [`crate::notify_rule`] as desktop notifications with `notify-rust`
//! (`org.freedesktop.Notifications` on the session bus on Linux, the user notification centre on
//! macOS). Sending happens off the UI thread: D-Bus may be slow or absent.

use crate::notify_rule::Notice;

/// Sends `notices` in a background thread, in order; failures are logged, never fatal.
pub fn send(notices: Vec<Notice>) {
    if notices.is_empty() {
        return;
    }
    std::thread::spawn(move || {
        for n in notices {
            let res = notify_rust::Notification::new().appname("vmbar").summary(&n.title).body(&n.body).show();
            if let Err(e) = res {
                tracing::warn!("notification {:?} not sent: {e}", n.title);
            }
        }
    });
}
