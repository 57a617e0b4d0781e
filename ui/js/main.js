// Entry of the vmbar window: renders the app's state, re-renders on every engine update event
// (no polling of the app), and wires the buttons, the settings form and the keyboard.

import { app as realApp } from './bridge.js';
import { render, fillSettings } from './view.js';
import { settingsFromForm } from './model.js';

export function start(doc, app, clock = () => new Date()) {
  let state = null;
  let toastTimer = null;

  const toast = (text) => {
    const t = doc.getElementById('toast');
    t.textContent = text;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.textContent = ''; }, 4000);
  };
  const fail = (e) => toast(e && e.message ? e.message : String(e));

  const onCopy = (kind, name) => {
    const p = kind === 'ip' ? app.copyIp(name) : app.copySsh(name);
    p.then((text) => toast(`Copied: ${text}`), fail);
  };
  const show = (s) => {
    state = s;
    render(doc, state, clock(), { onCopy });
  };
  const settingsBox = doc.getElementById('settings');
  const openSettings = (open) => {
    settingsBox.hidden = !open;
    doc.getElementById('open-settings').setAttribute('aria-expanded', String(open));
    if (open && state) {
      fillSettings(doc, state.settings);
      doc.getElementById('set-vms-dir').focus();
    }
  };

  doc.getElementById('refresh').addEventListener('click', () => app.refreshNow().then(() => toast('Refreshing…'), fail));
  doc.getElementById('open-settings').addEventListener('click', () => openSettings(settingsBox.hidden));
  doc.getElementById('close-settings').addEventListener('click', () => openSettings(false));
  doc.getElementById('set-open-at-login').addEventListener('change', (e) => {
    app.setOpenAtLogin(e.target.checked).then(
      (on) => toast(on ? 'vmbar will open at login' : 'vmbar will not open at login'),
      (err) => { e.target.checked = !e.target.checked; fail(err); },
    );
  });
  doc.getElementById('settings-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = e.target.elements;
    const parsed = settingsFromForm({
      vms_dir: f.vms_dir.value, registry: f.registry.value, ssh_user: f.ssh_user.value,
      notifications: f.notifications.checked, open_at_login: f.open_at_login.checked,
      registry_outside_vms_dir_confirmed: f.registry_outside_vms_dir_confirmed.checked,
    });
    const status = doc.getElementById('settings-status');
    if (!parsed.ok) { status.textContent = parsed.error; return; }
    app.saveSettings(parsed.value).then(
      (s) => { status.textContent = 'Saved.'; show(s); fillSettings(doc, s.settings); },
      (err) => {
        status.textContent = err && err.message ? err.message : String(err);
        // A registry outside the VMs folder: offer the explicit confirmation, then Save again.
        if (err && err.kind === 'registry_outside_vms_dir') {
          doc.getElementById('set-registry-confirm-field').hidden = false;
          doc.getElementById('set-registry-confirm').focus();
        }
      },
    );
  });
  doc.getElementById('install-cli').addEventListener('click', () => {
    const note = doc.getElementById('cli-note');
    app.installCli(doc.getElementById('cli-folder').value).then(
      (path) => { note.textContent = `Installed: ${path}`; toast(`vmbar installed as ${path}`); },
      (err) => { note.textContent = err && err.message ? err.message : String(err); },
    );
  });
  doc.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      if (!settingsBox.hidden) openSettings(false);
      else app.hideWindow().catch(() => {});
    } else if ((e.key === 'r' || e.key === 'R') && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      app.refreshNow().catch(fail);
    }
  });

  app.onState(show);
  app.onShowSettings(() => openSettings(true));
  app.getState().then(show, fail);
  // Re-render the "for 3 min" durations; the data itself only changes on engine events.
  setInterval(() => { if (state) render(doc, state, clock(), { onCopy }); }, 15000);
}

if (globalThis.document && globalThis.__TAURI__) start(globalThis.document, realApp);
