// The one module that talks to Tauri (the global `window.__TAURI__`, enabled by withGlobalTauri:
// no bundler). Everything else gets these functions and can be tested with a fake.

function tauri() {
  const t = globalThis.__TAURI__;
  if (!t) throw new Error('not running inside the vmbar app');
  return t;
}

/** Calls one of the app's commands; rejects with `{kind, message}` on error. */
export function call(command, args = {}) {
  return tauri().core.invoke(command, args);
}

/** Subscribes to an app event; returns a promise of the unsubscribe function. */
export function on(event, handler) {
  return tauri().event.listen(event, (e) => handler(e.payload));
}

/** The app's API as the window uses it. */
export const app = {
  getState: () => call('get_state'),
  copyIp: (name) => call('copy_ip', { name }),
  copySsh: (name) => call('copy_ssh', { name }),
  refreshNow: () => call('refresh_now'),
  saveSettings: (settings) => call('save_settings', { settings }),
  setOpenAtLogin: (enabled) => call('set_open_at_login', { enabled }),
  hideWindow: () => call('hide_window'),
  installCli: (folder) => call('install_cli', { folder }),
  onState: (handler) => on('vmbar://state', handler),
  onShowSettings: (handler) => on('vmbar://show-settings', handler),
};
