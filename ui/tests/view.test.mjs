import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeDocument, WINDOW_IDS } from './fake-dom.mjs';
import { render, fillSettings, fillSystem } from '../js/view.js';

const now = new Date('2026-11-30T10:00:00Z');
const base = { since: '2026-11-30T09:59:00Z', detail: null, ssh_user: null, ssh_port: 22, candidate: null };
const state = {
  at: '2026-11-30T10:00:00Z', vms_dir: '/vms', vms_dir_exists: true, error: null, tray_problem: null,
  vms: [
    { ...base, name: 'zeta', status: 'stopped', ipv4: null, source: null, confirmed: false, ssh_command: null },
    { ...base, name: '<img src=x onerror=alert(1)>', status: 'running', ipv4: '10.0.0.9', source: 'neighbours', confirmed: true, ssh_command: "ssh '<x>'@10.0.0.9", detail: '<b>bold</b>' },
    { ...base, name: 'alpha', status: 'initializing', ipv4: null, source: null, confirmed: false, ssh_command: null,
      candidate: { ipv4: '192.168.1.23', source: 'registry' } },
  ],
};

test('rows are sorted, names and details are text, copy buttons follow the confirmed IP', () => {
  const doc = fakeDocument(WINDOW_IDS);
  const copies = [];
  render(doc, state, now, { onCopy: (k, n) => copies.push([k, n]) });
  const rows = doc.getElementById('vms').children;
  assert.deepEqual(rows.map((r) => r.getAttribute('data-name')), ['<img src=x onerror=alert(1)>', 'alpha', 'zeta']);
  const xss = rows[0];
  const name = xss.querySelectorAll((e) => e.className === 'name')[0];
  assert.equal(name.textContent, '<img src=x onerror=alert(1)>');
  assert.equal(name.children.length, 0);
  assert.match(xss.textContent, /<b>bold<\/b>/);
  const [ipBtn, sshBtn] = xss.querySelectorAll((e) => e.tagName === 'BUTTON');
  assert.equal(ipBtn.disabled, false);
  assert.equal(ipBtn.getAttribute('aria-label'), 'Copy IP address of <img src=x onerror=alert(1)>');
  ipBtn.click(); sshBtn.click();
  const alpha = rows[1];
  assert.match(alpha.textContent, /no IP yet/);
  assert.match(alpha.textContent, /192\.168\.1\.23 unconfirmed \(registry\)/);
  for (const b of alpha.querySelectorAll((e) => e.tagName === 'BUTTON')) { assert.equal(b.disabled, true); b.click(); }
  assert.deepEqual(copies, [['ip', '<img src=x onerror=alert(1)>'], ['ssh', '<img src=x onerror=alert(1)>']]);
  assert.equal(doc.getElementById('summary').textContent, '3 VMs: 1 initializing, 1 running, 1 stopped');
  assert.equal(doc.getElementById('empty').hidden, true);
  assert.equal(doc.getElementById('tray-problem').hidden, true);
});

test('empty folder, missing folder and tray problem messages', () => {
  const doc = fakeDocument(WINDOW_IDS);
  render(doc, { ...state, vms: [], vms_dir_exists: false, tray_problem: 'No system tray was found' }, now, { onCopy() {} });
  assert.equal(doc.getElementById('empty').hidden, false);
  assert.match(doc.getElementById('empty').textContent, /does not exist.*\/vms/s);
  assert.equal(doc.getElementById('tray-problem').hidden, false);
  assert.match(doc.getElementById('tray-problem').textContent, /No system tray/);
});

test('settings form shows overrides', () => {
  const doc = fakeDocument(WINDOW_IDS);
  fillSettings(doc, {
    vms_dir: { value: '/tmp/v', overridden_by: '--vms-dir' }, registry: { value: '/r.json', overridden_by: null },
    ssh_user: { value: null, overridden_by: null }, notifications: { value: true }, open_at_login: { value: false },
    config_path: '/home/u/.config/vmbar/config.toml',
  });
  assert.equal(doc.getElementById('set-vms-dir').value, '/tmp/v');
  assert.match(doc.getElementById('set-vms-dir-note').textContent, /--vms-dir/);
  assert.equal(doc.getElementById('set-registry-note').textContent, '');
  assert.equal(doc.getElementById('set-ssh-user').value, '');
  assert.equal(doc.getElementById('set-notifications').checked, true);
  assert.match(doc.getElementById('config-path').textContent, /config\.toml/);
  assert.equal(doc.getElementById('set-registry-writes').textContent, 'vmbar writes each confirmed address into /r.json.');
  assert.equal(doc.getElementById('set-registry-confirm-field').hidden, true);
});

test('settings form says which file vmbar writes, and when it is outside the VMs folder', () => {
  const doc = fakeDocument(WINDOW_IDS);
  doc.getElementById('set-registry-confirm-field').hidden = false;
  doc.getElementById('set-registry-confirm').checked = true;
  fillSettings(doc, {
    vms_dir: { value: '/home/u/vms' }, registry: { value: '/home/u/dotfiles/settings.json' }, registry_outside_vms_dir: true,
    ssh_user: { value: null }, notifications: { value: true }, open_at_login: { value: false }, config_path: '/c.toml',
  });
  assert.equal(doc.getElementById('set-registry-writes').textContent, 'vmbar writes each confirmed address into /home/u/dotfiles/settings.json. It is outside the VMs folder.');
  assert.equal(doc.getElementById('set-registry-writes').className, 'note override');
  // a refilled form never carries an old confirmation over
  assert.equal(doc.getElementById('set-registry-confirm-field').hidden, true);
  assert.equal(doc.getElementById('set-registry-confirm').checked, false);
});

test('a focused copy button keeps the focus across a re-render', () => {
  const doc = fakeDocument(WINDOW_IDS);
  render(doc, state, now, { onCopy() {} });
  const btn = doc.getElementById('vms').children[0].querySelectorAll((e) => e.className === 'copy-ssh')[0];
  btn.focus();
  render(doc, state, now, { onCopy() {} });
  const again = doc.getElementById('vms').children[0].querySelectorAll((e) => e.className === 'copy-ssh')[0];
  assert.notEqual(again, btn);
  assert.equal(doc.activeElement, again);
});

test('settings say how vmbar opens at login and which programs it found, as text', () => {
  const doc = fakeDocument(WINDOW_IDS);
  fillSystem(doc, {
    login_item: 'registered as a login item (System Settings > General > Login Items), but macOS waits for your approval there before it opens vmbar at login',
    login_item_needs_approval: true,
    programs: [{ role: 'ssh', path: '/opt/homebrew/bin/ssh' }, { role: 'terminal', path: null }],
  });
  assert.match(doc.getElementById('login-item-note').textContent, /System Settings > General > Login Items/);
  assert.equal(doc.getElementById('login-item-note').className, 'note override');
  assert.equal(doc.getElementById('programs-note').textContent, 'Programs vmbar runs: ssh: /opt/homebrew/bin/ssh; terminal: not found');
  fillSystem(doc, undefined);
  assert.equal(doc.getElementById('programs-note').textContent, '');
});

test('the command-line tool: offered folders, the bundled path, disabled without one', () => {
  const doc = fakeDocument(WINDOW_IDS);
  fillSystem(doc, { programs: [], cli_bundled: '/Applications/vmbar.app/Contents/MacOS/vmbar', cli_folders: ['/opt/homebrew/bin', '/Users/ana/.local/bin'] });
  assert.equal(doc.getElementById('install-cli').disabled, false);
  assert.match(doc.getElementById('cli-note').textContent, /Links FOLDER\/vmbar to \/Applications\/vmbar\.app\/Contents\/MacOS\/vmbar/);
  assert.deepEqual(doc.getElementById('cli-folders').children.map((o) => o.attributes.get('value')), ['/opt/homebrew/bin', '/Users/ana/.local/bin']);
  fillSystem(doc, { programs: [], cli_bundled: null, cli_folders: [] });
  assert.equal(doc.getElementById('install-cli').disabled, true);
  assert.match(doc.getElementById('cli-note').textContent, /carries no command-line tool/);
});
