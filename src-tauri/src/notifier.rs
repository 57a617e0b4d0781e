//! Sends the notices of [`crate::notify_rule`] as desktop notifications with `notify-rust`
//! (`org.freedesktop.Notifications` on the session bus on Linux, the user notification centre on
//! macOS). Sending happens off the UI thread: D-Bus may be slow or absent. The body is escaped
//! for the markup Linux notification servers render ([`server_body`]).

use std::sync::OnceLock;

use crate::notify_rule::Notice;

static IDENTITY: OnceLock<String> = OnceLock::new();

/// Makes notifications come from the app itself: on macOS the notification centre shows them
/// under the application whose bundle identifier notify-rust (mac-notification-sys) is given,
/// with its icon, and System Settings > Notifications allows or silences them by that
/// application; without this they would appear as another app's (mac-notification-sys falls
/// back to an existing app's identifier). Called once at start with the identifier of
/// `tauri.conf.json` (`app.config().identifier`, the bundle's `CFBundleIdentifier`). On Linux
/// the `appname` "vmbar" names the sender instead; the identifier is only recorded.
/// Returns the identity in force (the first one given: macOS allows setting it once).
pub fn init(bundle_identifier: &str) -> &'static str {
    let id = IDENTITY.get_or_init(|| {
        #[cfg(target_os = "macos")]
        if let Err(e) = notify_rust::set_application(bundle_identifier) {
            tracing::warn!("notifications: cannot post as {bundle_identifier}: {e}");
        }
        bundle_identifier.to_owned()
    });
    id.as_str()
}

/// The identity given to [`init`], `None` before it.
pub fn identity() -> Option<&'static str> {
    IDENTITY.get().map(String::as_str)
}

/// Sends `notices` in a background thread, in order; failures are logged, never fatal.
pub fn send(notices: Vec<Notice>) {
    if notices.is_empty() {
        return;
    }
    std::thread::spawn(move || {
        for n in notices {
            let res = notify_rust::Notification::new().appname("vmbar").summary(&n.title).body(&server_body(&n.body)).show();
            if let Err(e) = res {
                tracing::warn!("notification {:?} not sent: {e}", n.title);
            }
        }
    });
}

/// The body text as the notification server gets it. On Linux, `org.freedesktop.Notifications`
/// servers render a markup subset in the body (`<b>`, `<i>`, `<u>`, `<a href>`, `<img>`, XML
/// entities; GNOME Shell, KDE Plasma, dunst, mako), so `&`, `<`, `>`, `"` and `'` are written as
/// entities and the body shows as the text it is. macOS's notification centre shows plain text:
/// unchanged there.
pub fn server_body(body: &str) -> String {
    if cfg!(target_os = "linux") {
        markup_escape(body)
    } else {
        body.to_string()
    }
}

/// `text` with the five XML special characters as entities (`&amp; &lt; &gt; &quot; &#39;`).
pub fn markup_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The identity notifications are posted under is the bundle identifier of
    /// `tauri.conf.json`, as Tauri's own context reads it (what `run` passes to [`init`]).
    #[test]
    fn notifications_post_as_the_bundle_identifier_of_tauri_conf() {
        let conf: serde_json::Value = serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
        let want = conf["identifier"].as_str().unwrap();
        assert!(want.contains('.') && !want.is_empty(), "a reverse-DNS bundle identifier: {want}");
        let ctx: tauri::Context<tauri::Wry> = tauri::generate_context!();
        assert_eq!(crate::notifier_identity(ctx.config()), want);
        assert_eq!(init(crate::notifier_identity(ctx.config())), want);
        assert_eq!(identity(), Some(want));
    }

    #[test]
    fn the_body_reaches_a_markup_rendering_server_as_text() {
        // org.freedesktop.Notifications servers render a markup subset in the body (<b>, <i>,
        // <a href>, <img>, with &-entities): the ssh command and anything else in it is text.
        let body = "10.0.0.5\nssh '<a href=\"https://evil.example\">x</a>&amp;<b>'@10.0.0.5";
        let sent = server_body(body);
        if cfg!(target_os = "linux") {
            assert_eq!(sent, "10.0.0.5\nssh &#39;&lt;a href=&quot;https://evil.example&quot;&gt;x&lt;/a&gt;&amp;amp;&lt;b&gt;&#39;@10.0.0.5", "markup reached the notification server");
        } else {
            assert_eq!(sent, body, "macOS shows the body as plain text");
        }
    }
}
