import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowModel, formatDuration, sortVms, summaryText, emptyMessage, overrideNote, settingsFromForm } from '../js/model.js';

const now = new Date('2026-11-30T10:00:00Z');
const vm = (over) => ({
  name: 'fargo', status: 'running', ipv4: '10.0.0.5', source: 'neighbours', confirmed: true,
  candidate: null, ssh_user: 'ubuntu', ssh_port: 22, since: '2026-11-30T09:57:00Z', detail: null,
  ssh_command: 'ssh ubuntu@10.0.0.5', ...over,
});

test('a running VM shows its IP, source, duration and both copy actions', () => {
  const m = rowModel(vm({}), now);
  assert.equal(m.glyph, '●');
  assert.equal(m.ipText, '10.0.0.5');
  assert.equal(m.ipSource, 'neighbours');
  assert.equal(m.sinceText, 'for 3 min');
  assert.equal(m.copyIp, '10.0.0.5');
  assert.equal(m.sshCommand, 'ssh ubuntu@10.0.0.5');
});

test('a candidate is shown greyed but never copied or presented as the address', () => {
  const m = rowModel(vm({ status: 'initializing', ipv4: null, source: null, confirmed: false,
    candidate: { ipv4: '192.168.1.23', source: 'registry' }, ssh_command: 'ssh 192.168.1.23' }), now);
  assert.equal(m.ipText, 'no IP yet');
  assert.equal(m.candidateText, '192.168.1.23 unconfirmed (registry)');
  assert.equal(m.copyIp, null);
  assert.equal(m.sshCommand, null);
  assert.equal(m.statusText, 'initializing (no IP yet)');
});

test('stopped VMs say no IP, unknown statuses fall back safely', () => {
  assert.equal(rowModel(vm({ status: 'stopped', ipv4: null, confirmed: false }), now).ipText, 'no IP');
  assert.equal(rowModel(vm({ status: 'weird' }), now).glyph, '✕');
  assert.equal(rowModel(vm({ since: 'garbage' }), now).sinceText, '');
});

test('durations', () => {
  assert.equal(formatDuration(-5), '0 s');
  assert.equal(formatDuration(59_999), '59 s');
  assert.equal(formatDuration(60_000), '1 min');
  assert.equal(formatDuration(2 * 3600e3 + 5 * 60e3), '2 h 5 min');
  assert.equal(formatDuration(3 * 3600e3), '3 h');
  assert.equal(formatDuration(3 * 86400e3 + 4 * 3600e3), '3 d 4 h');
});

test('sorting is case-insensitive and stable on ties', () => {
  const names = sortVms([{ name: 'zulu' }, { name: 'Alpha' }, { name: 'bravo' }, { name: 'alpha' }]).map((v) => v.name);
  assert.deepEqual(names, ['Alpha', 'alpha', 'bravo', 'zulu']);
});

test('summary and empty messages distinguish a missing folder, an error and no VMs', () => {
  assert.equal(summaryText({ vms: [vm({}), vm({ status: 'stopped' }), vm({ status: 'booting' })] }), '3 VMs: 1 booting, 1 running, 1 stopped');
  assert.equal(emptyMessage({ vms: [vm({})] }), null);
  assert.match(emptyMessage({ vms: [], vms_dir: '/nope', vms_dir_exists: false, at: 'x' }).title, /does not exist/);
  assert.match(emptyMessage({ vms: [], vms_dir: '/d', vms_dir_exists: true, error: 'permission denied', at: 'x' }).body, /permission denied/);
  assert.match(emptyMessage({ vms: [], vms_dir: '/d', vms_dir_exists: true, at: 'x' }).title, /No VMs yet/);
});

test('override notes name the flag or variable', () => {
  assert.equal(overrideNote({ value: '/a' }), '');
  assert.match(overrideNote({ value: '/a', overridden_by: 'VMBAR_VMS_DIR' }), /Overridden by VMBAR_VMS_DIR/);
});

test('settings form validation', () => {
  const ok = settingsFromForm({ vms_dir: ' /v ', registry: '/r.json', ssh_user: '', notifications: true, open_at_login: false });
  assert.deepEqual(ok, { ok: true, value: { vms_dir: '/v', registry: '/r.json', ssh_user: null, notifications: true, open_at_login: false, registry_outside_vms_dir_confirmed: false } });
  assert.equal(settingsFromForm({ vms_dir: '/v', registry: '/r', registry_outside_vms_dir_confirmed: true }).value.registry_outside_vms_dir_confirmed, true);
  assert.equal(settingsFromForm({ vms_dir: '', registry: '/r' }).ok, false);
  assert.equal(settingsFromForm({ vms_dir: '/v', registry: '/r', ssh_user: "a'b" }).ok, false);
  assert.equal(settingsFromForm({ vms_dir: '/v', registry: '/r', ssh_user: 'a b' }).ok, false);
  assert.equal(settingsFromForm({ vms_dir: '/v', registry: '/r', ssh_user: 'ubuntu' }).value.ssh_user, 'ubuntu');
  // the engine's user rule: the portable set plus @ (directory accounts), 64 at most
  assert.equal(settingsFromForm({ vms_dir: '/v', registry: '/r', ssh_user: 'jane@corp.example' }).value.ssh_user, 'jane@corp.example');
  for (const bad of ['-oProxyCommand=x', 'x\u0015y', "\\'", 'ü', 'u'.repeat(65), '$(id)']) {
    assert.equal(settingsFromForm({ vms_dir: '/v', registry: '/r', ssh_user: bad }).ok, false, bad);
  }
});

test('a Local Network block detail is a warning, other details are notes', () => {
  const blocked = 'connections to 192.168.64.5 are blocked (No route to host) although it is on the local network: on macOS 15 or later, allow vmbar in System Settings > Privacy & Security > Local Network';
  const note = { code: 'local_network_denied', detail: blocked };
  assert.equal(rowModel(vm({ status: 'initializing', ipv4: null, confirmed: false, detail: blocked, notes: [note] }), now).detailIsWarning, true);
  // The code decides, not the English: the same words without the note are a plain note.
  assert.equal(rowModel(vm({ status: 'initializing', ipv4: null, confirmed: false, detail: blocked, notes: [] }), now).detailIsWarning, false);
  assert.equal(rowModel(vm({ detail: 'SSH not ready' }), now).detailIsWarning, false);
  assert.equal(rowModel(vm({}), now).detailIsWarning, false);
});
