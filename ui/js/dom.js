// Small DOM helpers: element building, the aria-live status line, and modal
// dialogs that trap focus while open and give it back when they close.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// el('li', {class: 'x', dataset: {id}, onclick: f}, 'text', child, ...)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Polite announcements (and a visible status line) for screen readers.
export function announce(message) {
  const region = $('#status');
  if (!region) return;
  region.textContent = '';
  // A new text node after a tick so repeated messages are read again.
  setTimeout(() => { region.textContent = message; }, 10);
}

// Errors go to the assertive region, visibly.
export function showError(message) {
  const region = $('#error');
  if (!region) return;
  region.textContent = message;
  region.hidden = !message;
}

export function problemText(err) {
  if (!err) return '';
  if (err.status) return `${err.status}${err.code ? ` ${err.code}` : ''}: ${err.message}`;
  return err.message || String(err);
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), ' +
  'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function isDialogOpen() {
  return $$('dialog').some((d) => d.open);
}

// Opens a <dialog> whose <form> has a submit button and a [data-cancel]
// button. prepare(dialog) fills it; read(dialog) returns the value or throws
// an Error whose message is shown in the dialog's [data-error]. Resolves with
// the value, or null when cancelled (button or Escape). Focus goes to
// [autofocus] or the first control, stays inside while open, and returns to
// the element that had it.
export function openDialog(dialog, { prepare, read } = {}) {
  return new Promise((resolve) => {
    const returnTo = document.activeElement;
    const form = dialog.querySelector('form');
    const errorBox = dialog.querySelector('[data-error]');
    if (errorBox) { errorBox.textContent = ''; errorBox.hidden = true; }
    if (prepare) prepare(dialog);
    let result = null;

    const onKey = (e) => {
      if (e.key !== 'Tab') return;
      const items = $$(FOCUSABLE, dialog).filter((n) => n.offsetParent !== null || n === document.activeElement);
      if (items.length === 0) { e.preventDefault(); return; }
      const first = items[0], last = items[items.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    };
    const onSubmit = (e) => {
      e.preventDefault();
      try {
        result = read ? read(dialog) : true;
      } catch (err) {
        if (errorBox) { errorBox.textContent = err.message; errorBox.hidden = false; }
        return;
      }
      dialog.close();
    };
    const onCancelButton = (e) => { e.preventDefault(); result = null; dialog.close(); };
    const cancelButtons = $$('[data-cancel]', dialog);
    const onClose = () => {
      dialog.removeEventListener('keydown', onKey);
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('close', onClose);
      cancelButtons.forEach((b) => b.removeEventListener('click', onCancelButton));
      if (returnTo && typeof returnTo.focus === 'function' && document.contains(returnTo)) returnTo.focus();
      resolve(result);
    };
    dialog.addEventListener('keydown', onKey);
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('close', onClose);
    cancelButtons.forEach((b) => b.addEventListener('click', onCancelButton));
    dialog.showModal();
    const first = dialog.querySelector('[autofocus]') || $$(FOCUSABLE, dialog)[0];
    if (first) first.focus();
  });
}

export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

// "key=value, key=value" of an event payload, short enough for one line.
export function summarize(payload, max = 160) {
  if (payload === null || payload === undefined) return '';
  if (typeof payload !== 'object') return String(payload).slice(0, max);
  const parts = [];
  for (const [k, v] of Object.entries(payload)) {
    if (/sha256|_hash$/.test(k)) continue;
    let s;
    if (v === null) s = 'null';
    else if (Array.isArray(v)) s = `[${v.map((x) => (typeof x === 'object' ? '…' : x)).join(', ')}]`;
    else if (typeof v === 'object') s = '{…}';
    else s = String(v);
    if (s.length > 60) s = `${s.slice(0, 57)}…`;
    parts.push(`${k}=${s}`);
  }
  const out = parts.join(', ');
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}
