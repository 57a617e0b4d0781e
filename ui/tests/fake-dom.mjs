// A minimal DOM for node tests of view.js: elements with attributes, children, textContent and
// click listeners. It has no HTML parser at all, so markup in a VM name can only ever be text;
// `innerHTML` throws, so the view cannot use it unnoticed.

class FakeElement {
  constructor(tag, doc) {
    this.tagName = tag.toUpperCase(); this.ownerDocument = doc;
    this.attributes = new Map(); this.children = []; this._text = '';
    this.listeners = {}; this.hidden = false; this.value = ''; this.checked = false; this.className = '';
  }
  setAttribute(k, v) { this.attributes.set(k, String(v)); if (k === 'id') this.ownerDocument.ids.set(v, this); }
  removeAttribute(k) { this.attributes.delete(k); }
  getAttribute(k) { return this.attributes.has(k) ? this.attributes.get(k) : null; }
  hasAttribute(k) { return this.attributes.has(k); }
  get disabled() { return this.attributes.has('disabled'); }
  appendChild(c) { c.parentNode = this; this.children.push(c); return c; }
  replaceChildren(...cs) { for (const c of cs) c.parentNode = this; this.children = cs; }
  set textContent(t) { this.children = []; this._text = String(t); }
  get textContent() { return this._text + this.children.map((c) => c.textContent).join(''); }
  set innerHTML(_) { throw new Error('innerHTML used'); }
  addEventListener(ev, fn) { (this.listeners[ev] ||= []).push(fn); }
  click() { if (!this.disabled) for (const fn of this.listeners.click || []) fn({ target: this }); }
  focus() { this.ownerDocument.activeElement = this; }
  querySelectorAll(pred) {
    const out = [];
    const walk = (e) => { for (const c of e.children) { if (pred(c)) out.push(c); walk(c); } };
    walk(this); return out;
  }
}

export function fakeDocument(ids) {
  const doc = { ids: new Map(), listeners: {} };
  doc.createElement = (tag) => new FakeElement(tag, doc);
  doc.getElementById = (id) => doc.ids.get(id) || null;
  doc.addEventListener = (ev, fn) => { (doc.listeners[ev] ||= []).push(fn); };
  for (const [id, tag] of ids) doc.createElement(tag).setAttribute('id', id);
  return doc;
}

export const WINDOW_IDS = [
  ['summary', 'p'], ['vms', 'ul'], ['empty', 'div'], ['tray-problem', 'p'], ['toast', 'p'],
  ['set-vms-dir', 'input'], ['set-vms-dir-note', 'p'], ['set-registry', 'input'], ['set-registry-note', 'p'],
  ['set-ssh-user', 'input'], ['set-ssh-user-note', 'p'], ['set-notifications', 'input'],
  ['set-open-at-login', 'input'], ['config-path', 'p'], ['set-registry-writes', 'p'],
  ['login-item-note', 'p'], ['programs-note', 'p'],
  ['cli-folder', 'input'], ['cli-folders', 'datalist'], ['install-cli', 'button'], ['cli-note', 'p'],
  ['set-registry-confirm-field', 'div'], ['set-registry-confirm', 'input'],
];
