// The auditor's view: the global event feed (GET /api/v1/events, auditor
// role), paged with `next`. Without the role the 403's detail is shown.

import { query } from './api.js';
import { $, el, announce, problemText, formatTime, summarize } from './dom.js';

const PAGE = 50;

export class Audit {
  constructor(api) {
    this.api = api;
    this.next = null;
    this.loaded = false;
    $('#audit-form').addEventListener('submit', (e) => { e.preventDefault(); this.load(true); });
    $('#audit-more').addEventListener('click', () => this.load(false));
  }

  async load(fromStart) {
    const message = $('#audit-message');
    message.textContent = '';
    const tbody = $('#audit-table tbody');
    if (fromStart) { tbody.replaceChildren(); this.next = '0'; }
    const params = {
      after: this.next || '0', limit: PAGE,
      category: $('#audit-category').value.trim(), type: $('#audit-type').value.trim(),
    };
    try {
      const { body } = await this.api.get(`/api/v1/events${query(params)}`);
      const events = body.events || [];
      tbody.append(...events.map((e) => el('tr', { dataset: { type: e.type } },
        el('td', { class: 'mono' }, e.position),
        el('td', {}, el('time', { datetime: e.recorded_at }, formatTime(e.recorded_at))),
        el('td', { class: 'mono' }, e.stream_id),
        el('td', {}, e.type),
        el('td', {}, e.metadata?.actor || ''),
        el('td', { class: 'payload' }, summarize(e.payload, 120)))));
      // `next` continues after the last event; a short page is the end for now.
      if (body.next) this.next = body.next;
      const more = events.length === PAGE;
      $('#audit-more').hidden = !more;
      $('#audit-caption').textContent = `${tbody.children.length} events shown${more ? '' : ' (the end of the log for now)'}`;
      this.loaded = true;
      announce(`${events.length} events loaded`);
    } catch (err) {
      $('#audit-more').hidden = true;
      $('#audit-caption').textContent = '';
      message.textContent = err.status === 403
        ? `This credential cannot read the event feed (auditor role needed): ${err.message}`
        : `Could not load the feed: ${problemText(err)}`;
    }
  }
}
