// Undo by delay. The API has no "unverify": a curation command, once sent, is
// a fact in the log. So an action waits here for a few seconds, shown as a
// toast with an Undo button, and is sent only when nobody undid it. `u` (or
// the button) cancels the most recent one that has not been sent.

import { el, announce } from './dom.js';

export const UNDO_DELAY_MS = 4000;
export const UNDO_DELAY_CHOICES_MS = [4000, 8000, 15000];
const DELAY_KEY = 'furrsight.undoDelayMs';

// The curator's chosen delay, kept in this browser; anything else reads as the default.
export function savedUndoDelayMs() {
  const v = Number(localStorage.getItem(DELAY_KEY));
  return UNDO_DELAY_CHOICES_MS.includes(v) ? v : UNDO_DELAY_MS;
}

export function saveUndoDelayMs(ms) {
  if (!UNDO_DELAY_CHOICES_MS.includes(ms)) throw new Error(`undo delay ${ms} ms is not one of ${UNDO_DELAY_CHOICES_MS}`);
  localStorage.setItem(DELAY_KEY, String(ms));
}

export class PendingActions {
  constructor(toastRoot) {
    this.toastRoot = toastRoot;
    this.entries = [];  // oldest first: {id, label, meta, run, onCancel, timer, toast, deadline}
    this.nextId = 1;
    this.tick = setInterval(() => this.renderCountdowns(), 250);
  }

  // run(entry) sends the action; onCancel() undoes its pending marks.
  schedule({ label, meta = {}, run, onCancel }) {
    const delayMs = savedUndoDelayMs();  // read per action: a changed preference applies to the next one
    const entry = { id: this.nextId++, label, meta, run, onCancel, deadline: Date.now() + delayMs };
    const undoButton = el('button', { type: 'button', class: 'toast-undo', onclick: () => this.cancel(entry) },
      'Undo (u)');
    entry.countdown = el('span', { class: 'toast-countdown' });
    entry.toast = el('div', { class: 'toast', role: 'group', 'aria-label': `Pending: ${label}`, dataset: { pending: String(entry.id) } },
      el('span', { class: 'toast-label' }, label), entry.countdown, undoButton);
    this.toastRoot.append(entry.toast);
    entry.timer = setTimeout(() => this.fire(entry), delayMs);
    this.entries.push(entry);
    this.renderCountdowns();
    announce(`${label} in ${Math.round(delayMs / 1000)} seconds; press u to undo`);
    return entry;
  }

  renderCountdowns() {
    const now = Date.now();
    for (const e of this.entries) {
      const s = Math.max(0, Math.ceil((e.deadline - now) / 1000));
      e.countdown.textContent = `sending in ${s} s`;
    }
  }

  remove(entry) {
    this.entries = this.entries.filter((e) => e !== entry);
    entry.toast.remove();
  }

  async fire(entry) {
    if (!this.entries.includes(entry)) return;
    this.remove(entry);
    try {
      await entry.run(entry);
    } catch (err) {
      console.error('pending action failed', err);
    }
  }

  cancel(entry) {
    if (!this.entries.includes(entry)) return false;
    clearTimeout(entry.timer);
    this.remove(entry);
    if (entry.onCancel) entry.onCancel();
    announce(`Undone: ${entry.label} (nothing was sent)`);
    return true;
  }

  undoLast() {
    const last = this.entries[this.entries.length - 1];
    if (!last) {
      announce('Nothing to undo: actions already sent are facts in the log');
      return false;
    }
    return this.cancel(last);
  }

  forPair(pairId) {
    return this.entries.filter((e) => (e.meta.pairIds || []).includes(pairId));
  }

  // Sign-out: nothing pending is sent with a credential that is gone.
  cancelAll() {
    for (const e of [...this.entries]) this.cancel(e);
  }

  get size() { return this.entries.length; }
}
