//! Generates Tauri's context and the permissions of the app's own commands: every command must be
//! granted by name in `capabilities/main.json`, so the webview gets no command it was not given.
fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "get_state",
            "copy_ip",
            "copy_ssh",
            "open_ssh",
            "refresh_now",
            "save_settings",
            "set_open_at_login",
            "hide_window",
            "install_cli",
        ]),
    ))
    .expect("tauri-build failed (tauri.conf.json or capabilities/)");
}
