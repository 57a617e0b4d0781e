// Pure view logic of the vmbar window: from the app's state (engine reports + settings) to what
// each row shows. No DOM, no Tauri: tested with `node --test`.

/** Note codes (`vm.notes[].code`, from the engine) that make a row's detail a warning. */
export const WARNING_NOTES = ['local_network_denied', 'mac_conflict', 'invalid_ssh_user'];

/** The five statuses, with the glyph that carries the status without colour. */
export const GLYPHS = Object.freeze({
  running: '●',
  booting: '◐',
  initializing: '◌',
  stopped: '○',
  missing: '✕',
});

const STATUS_TEXT = Object.freeze({
  running: 'running',
  booting: 'booting (no SSH yet)',
  initializing: 'initializing (no IP yet)',
  stopped: 'stopped',
  missing: 'missing',
});

/** Sorts VM reports by name, case-insensitively, ties by exact name (as the tray menu does). */
export function sortVms(vms) {
  return [...vms].sort((a, b) => {
    const x = a.name.toLowerCase(); const y = b.name.toLowerCase();
    if (x !== y) return x < y ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/** "5 s", "3 min", "2 h 5 min", "3 d 4 h" for a duration in milliseconds (negative counts as 0). */
export function formatDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/**
 * What one row shows. `vm` is an engine VmReport plus `ssh_command` (string or null);
 * `now` is a Date. The candidate is only ever in `candidateText`, never in `ipText`/`copyIp`.
 */
export function rowModel(vm, now) {
  const status = GLYPHS[vm.status] ? vm.status : 'missing';
  const confirmed = Boolean(vm.confirmed && vm.ipv4);
  const since = Date.parse(vm.since);
  let candidateText = null;
  if (!confirmed && vm.candidate && vm.candidate.ipv4) {
    candidateText = `${vm.candidate.ipv4} unconfirmed (${vm.candidate.source})`;
  }
  let ipText;
  if (confirmed) ipText = vm.ipv4;
  else if (status === 'stopped' || status === 'missing') ipText = 'no IP';
  else ipText = 'no IP yet';
  return {
    name: vm.name,
    status,
    glyph: GLYPHS[status],
    statusText: STATUS_TEXT[status],
    ipText,
    ipSource: confirmed && vm.source ? vm.source : null,
    candidateText,
    sinceText: Number.isNaN(since) ? '' : `for ${formatDuration(now.getTime() - since)}`,
    detail: vm.detail || null,
    // Notes the user must act on (macOS 15+ Local Network privacy blocks every probe; a MAC
    // conflict; an ssh user refused): the row shows its detail as a warning, not a grey note.
    // Decided by the engine's note codes, never by matching its English.
    detailIsWarning: (vm.notes || []).some((n) => WARNING_NOTES.includes(n.code)),
    copyIp: confirmed ? vm.ipv4 : null,
    sshCommand: confirmed && vm.ssh_command ? vm.ssh_command : null,
  };
}

/** "3 VMs: 1 running, 2 stopped" (most interesting first), "No VMs", or the engine error. */
export function summaryText(state) {
  const vms = state.vms || [];
  if (!vms.length) return 'No VMs';
  const order = ['booting', 'initializing', 'running', 'stopped', 'missing'];
  const parts = order
    .map((s) => [s, vms.filter((v) => v.status === s).length])
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  return `${vms.length} ${vms.length === 1 ? 'VM' : 'VMs'}: ${parts.join(', ')}`;
}

/**
 * What to say when there is no row to show, or null when there are rows. Distinguishes a VMs
 * folder that does not exist, an engine error, and an empty folder.
 */
export function emptyMessage(state) {
  if ((state.vms || []).length) return null;
  if (state.vms_dir && state.vms_dir_exists === false) {
    return {
      title: 'The VMs folder does not exist',
      body: `vmbar looks for one folder per VM in ${state.vms_dir}. Create it, or choose another folder in Settings.`,
    };
  }
  if (state.error) return { title: 'vmbar cannot read the VMs', body: state.error };
  if (!state.at) return { title: 'Looking for VMs…', body: '' };
  return {
    title: 'No VMs yet',
    body: `No VM folders in ${state.vms_dir || 'the VMs folder'}. Each VM is a folder there (with its qemu.pid and console.log).`,
  };
}

/**
 * The note under a settings field: who overrides it for this run, or ''.
 * `field` is `{value, overridden_by}` with `overridden_by` like "--vms-dir" or "VMBAR_VMS_DIR".
 */
export function overrideNote(field) {
  if (!field || !field.overridden_by) return '';
  return `Overridden by ${field.overridden_by} for this run (now ${field.value ?? 'unset'}); a saved value applies when started without it.`;
}

/**
 * The settings form's values as the app's save_settings command takes them: trimmed strings,
 * empty ssh user = none. Returns {ok, value} or {ok: false, error}.
 */
export function settingsFromForm(form) {
  const vmsDir = String(form.vms_dir ?? '').trim();
  const registry = String(form.registry ?? '').trim();
  const sshUser = String(form.ssh_user ?? '').trim();
  if (!vmsDir) return { ok: false, error: 'The VMs folder cannot be empty.' };
  if (!registry) return { ok: false, error: 'The registry file cannot be empty.' };
  // The engine's rule (vmbar_engine::ssh::valid_user): the portable user-name set plus @.
  if (sshUser && !/^(?!-)[A-Za-z0-9._@-]{1,64}$/.test(sshUser)) {
    return { ok: false, error: 'The ssh user may hold only letters, digits, . _ - and @ (at most 64, not starting with -).' };
  }
  return {
    ok: true,
    value: {
      vms_dir: vmsDir,
      registry,
      ssh_user: sshUser || null,
      notifications: Boolean(form.notifications),
      open_at_login: Boolean(form.open_at_login),
      registry_outside_vms_dir_confirmed: Boolean(form.registry_outside_vms_dir_confirmed),
    },
  };
}

/**
 * The line under the registry field saying which file vmbar writes. `settings` is the app's
 * SettingsView (`registry.value`, `registry_outside_vms_dir`).
 */
export function registryWritesNote(settings) {
  const file = settings?.registry?.value;
  if (!file) return '';
  const where = settings.registry_outside_vms_dir ? ' It is outside the VMs folder.' : '';
  return `vmbar writes each confirmed address into ${file}.${where}`;
}
