// DOM rendering of the vmbar window. Every VM-provided string goes through textContent (never
// innerHTML): a VM folder named `<img src=x onerror=alert(1)>` shows as that text.

import { rowModel, sortVms, summaryText, emptyMessage, overrideNote, registryWritesNote } from './model.js';

function el(doc, tag, props = {}, children = []) {
  const e = doc.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'className') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c) e.appendChild(c);
  return e;
}

/** One `<li>` for one VM. `onCopy(kind, name)` is called by the two copy buttons. */
export function renderRow(doc, vm, now, onCopy) {
  const m = rowModel(vm, now);
  const dot = el(doc, 'span', { className: `dot status-${m.status}`, text: m.glyph, 'aria-hidden': 'true' });
  const title = el(doc, 'div', { className: 'title' }, [
    el(doc, 'span', { className: 'name', text: m.name }),
    el(doc, 'span', { className: `status status-text-${m.status}`, text: m.statusText }),
  ]);
  const ipParts = [el(doc, 'span', { className: 'ip', text: m.ipText })];
  if (m.ipSource) ipParts.push(el(doc, 'span', { className: 'source', text: ` (${m.ipSource})` }));
  if (m.candidateText) ipParts.push(el(doc, 'span', { className: 'candidate', text: ` · ${m.candidateText}` }));
  if (m.sinceText) ipParts.push(el(doc, 'span', { className: 'since', text: ` · ${m.sinceText}` }));
  const line2 = el(doc, 'div', { className: 'line2' }, ipParts);
  const copyIp = el(doc, 'button', {
    type: 'button', className: 'copy-ip', text: 'Copy IP',
    'aria-label': `Copy IP address of ${m.name}`, disabled: !m.copyIp,
    title: m.copyIp ? `Copy ${m.copyIp}` : 'No confirmed IP yet',
  });
  const copySsh = el(doc, 'button', {
    type: 'button', className: 'copy-ssh', text: 'Copy ssh',
    'aria-label': `Copy ssh command of ${m.name}`, disabled: !m.sshCommand,
    title: m.sshCommand || 'No confirmed IP yet',
  });
  copyIp.addEventListener('click', () => onCopy('ip', m.name));
  copySsh.addEventListener('click', () => onCopy('ssh', m.name));
  const actions = el(doc, 'div', { className: 'actions' }, [copyIp, copySsh]);
  const li = el(doc, 'li', {
    className: `vm vm-${m.status}`, 'data-name': m.name, 'data-status': m.status,
    'aria-label': `${m.name}: ${m.status}, ${m.ipText}`,
  }, [dot, title, actions, line2]);
  if (m.detail) {
    li.appendChild(el(doc, 'div', {
      className: m.detailIsWarning ? 'detail warn' : 'detail', text: m.detail,
      role: m.detailIsWarning ? 'alert' : null,
    }));
  }
  return li;
}

/** Renders the whole state (list, summary, empty message, tray problem, settings form values). */
export function render(doc, state, now, handlers) {
  doc.getElementById('summary').textContent = state.error && state.vms?.length ? state.error : summaryText(state);
  const list = doc.getElementById('vms');
  // Keyboard focus survives a re-render: remember the focused copy button by VM and kind.
  const active = doc.activeElement;
  const li = active && active.tagName === 'BUTTON' && active.parentNode && active.parentNode.parentNode;
  const keep = li && li.getAttribute && li.getAttribute('data-name') !== null
    ? { name: li.getAttribute('data-name'), cls: active.className } : null;
  const rows = sortVms(state.vms || []).map((vm) => renderRow(doc, vm, now, handlers.onCopy));
  list.replaceChildren(...rows);
  if (keep) {
    const row = rows.find((r) => r.getAttribute('data-name') === keep.name);
    const btn = row && Array.from(row.children)
      .flatMap((c) => Array.from(c.children || []))
      .find((b) => b.className === keep.cls);
    if (btn && !btn.disabled) btn.focus();
  }
  const empty = doc.getElementById('empty');
  const msg = emptyMessage(state);
  empty.hidden = !msg;
  if (msg) {
    empty.replaceChildren(el(doc, 'strong', { text: msg.title }), el(doc, 'p', { text: msg.body }));
  }
  const tray = doc.getElementById('tray-problem');
  tray.hidden = !state.tray_problem;
  tray.textContent = state.tray_problem || '';
  fillSystem(doc, state.system);
}

/**
 * Fills the settings notes about the system (the app's SystemView): how vmbar opens at login,
 * and which programs it found where a login shell would (`ssh: /opt/homebrew/bin/ssh`).
 */
export function fillSystem(doc, system) {
  const login = doc.getElementById('login-item-note');
  const programs = doc.getElementById('programs-note');
  if (!login || !programs) return;
  login.textContent = system?.login_item ? `vmbar ${system.login_item}.` : '';
  login.className = system?.login_item_needs_approval ? 'note override' : 'note';
  const found = (system?.programs || []).map((p) => `${p.role}: ${p.path ?? 'not found'}`);
  programs.textContent = found.length ? `Programs vmbar runs: ${found.join('; ')}` : '';
  const cliNote = doc.getElementById('cli-note');
  const install = doc.getElementById('install-cli');
  const list = doc.getElementById('cli-folders');
  if (!cliNote || !install || !list) return;
  const bundled = system?.cli_bundled || null;
  if (bundled) install.removeAttribute('disabled');
  else install.setAttribute('disabled', '');
  cliNote.textContent = bundled
    ? `Links FOLDER/vmbar to ${bundled} (an existing file there is never replaced).`
    : 'This copy of vmbar carries no command-line tool (it comes with the macOS app); install it with cargo install --path crates/vmbar-cli.';
  list.replaceChildren(...(system?.cli_folders || []).map((f) => el(doc, 'option', { value: f })));
}

/** Fills the settings form from `settings` (the app's SettingsView), with override notes. */
export function fillSettings(doc, settings) {
  const text = [['vms_dir', 'set-vms-dir'], ['registry', 'set-registry'], ['ssh_user', 'set-ssh-user']];
  for (const [key, id] of text) {
    const field = settings[key] || {};
    doc.getElementById(id).value = field.value ?? '';
    const note = doc.getElementById(`${id}-note`);
    note.textContent = overrideNote(field);
    note.className = field.overridden_by ? 'note override' : 'note';
  }
  doc.getElementById('set-notifications').checked = Boolean(settings.notifications?.value);
  doc.getElementById('set-open-at-login').checked = Boolean(settings.open_at_login?.value);
  doc.getElementById('config-path').textContent = settings.config_path ? `Saved in ${settings.config_path}` : '';
  const writes = doc.getElementById('set-registry-writes');
  writes.textContent = registryWritesNote(settings);
  writes.className = settings.registry_outside_vms_dir ? 'note override' : 'note';
  // The confirmation is offered only after a save was refused for it (see main.js).
  doc.getElementById('set-registry-confirm-field').hidden = true;
  doc.getElementById('set-registry-confirm').checked = false;
}
