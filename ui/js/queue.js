// The pair queue and the selected pair: keyset-paged list on the left, the
// pair's images, facts, actions and history on the right. Curation actions go
// through PendingActions (undo by delay) and carry the version the curator
// saw as If-Match; a 409 is shown and the pair reloaded.

import { query } from './api.js';
import { $, $$, el, announce, showError, problemText, openDialog, formatTime, summarize } from './dom.js';

const PAGE_SIZE = 25;
const IMAGE_CACHE_LIMIT = 60;

const shortId = (id) => String(id).slice(0, 8);
const nameOf = (x) => (x && typeof x === 'object' ? (x.name || x.slug || '') : (x || ''));

export class Queue {
  constructor(api, pending) {
    this.api = api;
    this.pending = pending;
    this.items = [];
    this.nextCursor = null;
    this.index = -1;
    this.checked = new Set();
    this.detail = null;       // the selected pair as GET /pairs/{id} returned it
    this.historyOpen = false;
    this.zoomed = false;
    this.catalog = { breeds: [], services: [] };
    this.images = new Map();  // sha256 -> object URL
    this.detailToken = 0;
    this.inflight = new Map();  // pair id -> the promise of its command in flight
    this.bind();
  }

  bind() {
    $('#filters').addEventListener('submit', (e) => { e.preventDefault(); this.reload(); });
    $('#load-more').addEventListener('click', () => this.loadMore());
    $('#bulk-verify').addEventListener('click', () => this.bulkVerify());
    $('#bulk-reject').addEventListener('click', () => this.bulkReject());
    for (const b of $$('#detail [data-action]')) {
      b.addEventListener('click', () => this.command(b.dataset.action));
    }
    for (const b of $$('#images [data-zoom]')) b.addEventListener('click', () => this.toggleZoom());
  }

  destroy() {
    for (const url of this.images.values()) URL.revokeObjectURL(url);
    this.images.clear();
  }

  // ---- catalog and filters -------------------------------------------------

  async loadCatalog() {
    try {
      const [breeds, services] = await Promise.all([this.api.get('/api/v1/breeds'), this.api.get('/api/v1/services')]);
      this.catalog = { breeds: breeds.body.items || [], services: services.body.items || [] };
    } catch (err) {
      showError(`Could not read the catalog: ${problemText(err)}`);
      return;
    }
    fillSelect($('#filter-breed'), this.catalog.breeds);
    fillSelect($('#filter-service'), this.catalog.services);
    const list = $('#breed-options');
    list.replaceChildren(...this.catalog.breeds.map((b) => el('option', { value: b.name })));
  }

  filters() {
    const f = new FormData($('#filters'));
    const min = String(f.get('min_confidence') || '').trim();
    return {
      status: f.get('status') || '',
      breed: f.get('breed') || '',
      service: f.get('service') || '',
      min_confidence: min,
    };
  }

  // ---- the list -----------------------------------------------------------

  async reload() {
    const f = this.filters();
    if (f.min_confidence !== '' && !(Number(f.min_confidence) >= 0 && Number(f.min_confidence) <= 1)) {
      showError('Min confidence must be a number between 0 and 1.');
      return;
    }
    showError('');
    this.items = [];
    this.nextCursor = null;
    this.index = -1;
    this.checked.clear();
    await this.fetchPage(null);
    if (this.items.length > 0) await this.select(0);
    else this.showDetail(null);
  }

  async loadMore() {
    if (!this.nextCursor) return;
    await this.fetchPage(this.nextCursor);
    announce(`${this.items.length} pairs in the queue`);
  }

  async fetchPage(cursor) {
    const list = $('#queue-list');
    list.setAttribute('aria-busy', 'true');
    try {
      const { body } = await this.api.get(`/api/v1/pairs${query({ ...this.filters(), limit: PAGE_SIZE, cursor })}`);
      this.items.push(...(body.items || []));
      this.nextCursor = body.next_cursor || null;
    } catch (err) {
      showError(`Could not load the queue: ${problemText(err)}`);
    } finally {
      list.removeAttribute('aria-busy');
    }
    this.renderList();
  }

  renderList() {
    const list = $('#queue-list');
    // Rebuilding the rows must not lose the keyboard focus: remember which control of which row had it.
    const active = list.contains(document.activeElement) ? document.activeElement : null;
    const activePair = active ? active.closest('li')?.dataset.pairId : null;
    const activePick = active ? active.classList.contains('pick') : false;
    list.replaceChildren(...this.items.map((p, i) => this.renderItem(p, i)));
    $('#queue-count').textContent = `(${this.items.length}${this.nextCursor ? '+' : ''})`;
    $('#load-more').hidden = !this.nextCursor;
    if (this.items.length === 0) list.append(el('li', { class: 'muted empty' }, 'No pairs match these filters.'));
    this.renderBulk();
    if (active) {
      const li = $$('#queue-list li').find((n) => n.dataset.pairId === activePair);
      const target = li && (activePick ? li.querySelector('.pick') : li.querySelector('.row'));
      if (target) target.focus();
    }
  }

  renderItem(p, i) {
    const pendingLabels = this.pending.forPair(p.id).map((e) => e.meta.kind);
    const selected = i === this.index;
    const host = safeUrl(p.source_url);
    const checkbox = el('input', {
      type: 'checkbox', class: 'pick', checked: this.checked.has(p.id),
      'aria-label': `Select pair ${shortId(p.id)} for a bulk action`,
      onchange: (e) => { if (e.target.checked) this.checked.add(p.id); else this.checked.delete(p.id); this.renderBulk(); },
    });
    const row = el('button', {
      type: 'button', class: 'row', 'aria-current': selected ? 'true' : null, dataset: { index: String(i) },
      onclick: () => this.select(i),
    },
    el('span', { class: `badge status-${(p.status || '').toLowerCase()}` }, p.status),
    el('span', { class: 'row-id' }, shortId(p.id)),
    el('span', { class: 'row-meta' }, [nameOf(p.breed) || 'no breed', confidenceText(p.confidence), p.cue].filter(Boolean).join(' · ')),
    el('span', { class: 'row-source muted' }, host ? host.pathname : ''),
    pendingLabels.length ? el('span', { class: 'pending-mark' }, `pending: ${pendingLabels.join(', ')}`) : null);
    return el('li', { class: selected ? 'selected' : '', dataset: { pairId: p.id, status: p.status } }, checkbox, row);
  }

  renderBulk() {
    const n = this.checked.size;
    $('#bulk-verify').disabled = n === 0;
    $('#bulk-reject').disabled = n === 0;
    $('#bulk-verify').textContent = n ? `Verify selected (${n})` : 'Verify selected';
    $('#bulk-reject').textContent = n ? `Reject selected (${n})` : 'Reject selected';
  }

  async move(delta) {
    if (this.items.length === 0) return;
    let i = this.index + delta;
    if (i >= this.items.length && this.nextCursor) {
      await this.fetchPage(this.nextCursor);
    }
    i = Math.max(0, Math.min(this.items.length - 1, i));
    if (i !== this.index) await this.select(i);
  }

  async select(i) {
    const rowHadFocus = document.activeElement?.matches?.('#queue-list button.row');
    this.index = i;
    this.renderList();
    const row = $(`#queue-list button.row[data-index="${i}"]`);
    if (row) {
      row.scrollIntoView({ block: 'nearest' });
      if (rowHadFocus) row.focus();
    }
    await this.loadDetail(this.items[i].id);
  }

  toggleChecked() {
    const p = this.items[this.index];
    if (!p) return;
    if (this.checked.has(p.id)) this.checked.delete(p.id); else this.checked.add(p.id);
    this.renderList();
    announce(`${this.checked.size} pairs selected`);
  }

  // ---- the selected pair --------------------------------------------------

  async loadDetail(id) {
    const token = ++this.detailToken;
    try {
      const { body, etag } = await this.api.get(`/api/v1/pairs/${encodeURIComponent(id)}`);
      if (token !== this.detailToken) return;
      if (etag !== null && etag !== undefined) body.version = etag;
      this.showDetail(body);
      this.mergeIntoList(body);
      if (this.historyOpen) this.loadHistory();
    } catch (err) {
      if (token === this.detailToken) showError(`Could not load pair ${shortId(id)}: ${problemText(err)}`);
    }
  }

  showDetail(pair) {
    this.detail = pair;
    $('#detail-body').hidden = !pair;
    $('#detail-empty').hidden = !!pair;
    if (!pair) {
      $('#detail-title').textContent = 'No pair selected';
      return;
    }
    $('#detail-title').textContent = `Pair ${shortId(pair.id)}`;
    $('#detail').dataset.pairId = pair.id;
    const status = $('#detail-status');
    status.textContent = pair.status;
    status.className = `badge status-${String(pair.status).toLowerCase()}`;
    const pendingLabels = this.pending.forPair(pair.id).map((e) => e.meta.kind);
    $('#detail-pending').textContent = pendingLabels.length ? `pending: ${pendingLabels.join(', ')} (u to undo)` : '';
    $('#detail-breed').textContent = nameOf(pair.breed) ? `${nameOf(pair.breed)}${pair.breed_set_by ? ` (by ${pair.breed_set_by})` : ''}` : '—';
    const services = (pair.services || []).map(nameOf);
    $('#detail-services').textContent = services.length ? `${services.join(', ')}${pair.services_set_by ? ` (by ${pair.services_set_by})` : ''}` : '—';
    const conf = pair.confidence ?? pair.analysis?.confidence ?? null;
    $('#detail-confidence').textContent = conf === null || conf === undefined ? 'not analysed' : confidenceText(conf);
    $('#detail-cue').textContent = [pair.cue, pair.similarity != null ? `similarity ${Number(pair.similarity).toFixed(2)}` : '']
      .filter(Boolean).join(', ');
    const source = $('#detail-source');
    source.replaceChildren();
    if (pair.source_url) source.append(el('a', { href: pair.source_url, target: '_blank', rel: 'noopener noreferrer' }, pair.source_url));
    $('#detail-reason').textContent = pair.reject_reason || '—';
    $('#detail-version').textContent = String(pair.version);
    const notes = Array.isArray(pair.notes) ? pair.notes : (pair.notes ? [{ note: pair.notes }] : []);
    $('#detail-notes').replaceChildren(...(notes.length
      ? notes.map((n) => el('li', {}, n.note, n.actor || n.at ? el('span', { class: 'muted' }, ` — ${[n.actor, formatTime(n.at)].filter(Boolean).join(', ')}`) : null))
      : [el('li', { class: 'muted' }, 'none')]));
    this.showImage($('#img-before'), pair.before, 'Before grooming');
    this.showImage($('#img-after'), pair.after, 'After grooming');
  }

  async showImage(img, image, what) {
    img.alt = `${what}, pair ${shortId(this.detail.id)}`;
    if (!image || !image.url) { img.removeAttribute('src'); img.alt = `${what}: no image`; return; }
    const key = image.sha256 || image.url;
    img.dataset.sha = key;
    let url = this.images.get(key);
    if (!url) {
      img.removeAttribute('src');
      try {
        url = await this.api.imageObjectUrl(image.url);
      } catch (err) {
        img.alt = `${what}: could not load (${problemText(err)})`;
        return;
      }
      this.images.set(key, url);
      if (this.images.size > IMAGE_CACHE_LIMIT) {
        const [oldKey, oldUrl] = this.images.entries().next().value;
        this.images.delete(oldKey);
        URL.revokeObjectURL(oldUrl);
      }
    }
    if (img.dataset.sha === key) img.src = url;
  }

  toggleZoom(force) {
    if (!this.detail) return;
    this.zoomed = force === undefined ? !this.zoomed : force;
    $('#images').classList.toggle('zoomed', this.zoomed);
    document.body.classList.toggle('zoom-open', this.zoomed);
    $('#detail [data-action="zoom"]').setAttribute('aria-pressed', String(this.zoomed));
    announce(this.zoomed ? 'Images zoomed in (z or Escape to zoom out)' : 'Images zoomed out');
  }

  mergeIntoList(pair) {
    const i = this.items.findIndex((p) => p.id === pair.id);
    if (i < 0) return;
    const item = this.items[i];
    for (const k of ['status', 'version', 'breed', 'breed_set_by', 'services', 'services_set_by', 'reject_reason']) {
      if (k in pair) item[k] = pair[k];
    }
    this.renderList();
  }

  // ---- history --------------------------------------------------------------

  async toggleHistory() {
    this.historyOpen = !this.historyOpen;
    $('#history').hidden = !this.historyOpen;
    $('#detail [data-action="history"]').setAttribute('aria-expanded', String(this.historyOpen));
    if (this.historyOpen) await this.loadHistory();
  }

  async loadHistory() {
    if (!this.detail) return;
    const id = this.detail.id;
    const list = $('#history-list');
    list.setAttribute('aria-busy', 'true');
    try {
      const { body } = await this.api.get(`/api/v1/pairs/${encodeURIComponent(id)}/events`);
      if (!this.detail || this.detail.id !== id) return;
      const events = body.events || [];
      list.replaceChildren(...events.map((e) => el('li', { class: 'event', dataset: { type: e.type } },
        el('span', { class: 'event-type' }, e.type),
        el('span', { class: 'event-meta muted' }, ` v${e.version} · ${e.metadata?.actor || 'unknown actor'} · `,
          el('time', { datetime: e.recorded_at }, formatTime(e.recorded_at))),
        el('div', { class: 'event-payload' }, summarize(e.payload)))));
      if (events.length === 0) list.append(el('li', { class: 'muted' }, 'No events.'));
      announce(`History of pair ${shortId(id)}: ${events.length} events`);
    } catch (err) {
      showError(`Could not load the history: ${problemText(err)}`);
    } finally {
      list.removeAttribute('aria-busy');
    }
  }

  // ---- commands -------------------------------------------------------------

  async command(action) {
    switch (action) {
      case 'verify': return this.verify();
      case 'reject': return this.reject();
      case 'breed': return this.setBreed();
      case 'services': return this.setServices();
      case 'note': return this.addNote();
      case 'history': return this.toggleHistory();
      case 'zoom': return this.toggleZoom();
      default: return undefined;
    }
  }

  current() {
    if (!this.detail) { announce('Select a pair first'); return null; }
    return this.detail;
  }

  verify() {
    const p = this.current();
    if (!p) return;
    this.schedule(p, 'verify', 'POST', 'verify', {}, `Verify pair ${shortId(p.id)}`);
  }

  async reject() {
    const p = this.current();
    if (!p) return;
    const reason = await askReason(`Reject pair ${shortId(p.id)}`);
    if (reason === null) return;
    this.schedule(p, 'reject', 'POST', 'reject', { reason }, `Reject pair ${shortId(p.id)} (${reason})`);
  }

  async setBreed() {
    const p = this.current();
    if (!p) return;
    const breed = await openDialog($('#breed-dialog'), {
      prepare: (d) => { $('#breed-input', d).value = nameOf(p.breed); },
      read: (d) => {
        const v = $('#breed-input', d).value.trim();
        if (!v) throw new Error('Type or choose a breed.');
        return v;
      },
    });
    if (breed === null) return;
    this.schedule(p, 'breed', 'PUT', 'breed', { breed }, `Set breed of pair ${shortId(p.id)} to ${breed}`);
  }

  async setServices() {
    const p = this.current();
    if (!p) return;
    const have = new Set((p.services || []).map((s) => nameOf(s).toLowerCase()));
    const services = await openDialog($('#services-dialog'), {
      prepare: (d) => {
        const box = $('#services-choices', d);
        box.replaceChildren(el('legend', {}, 'Services from the catalog'));
        if (this.catalog.services.length === 0) {
          box.append(el('p', { class: 'muted' }, 'The catalog has no grooming services yet (an admin adds them: POST /api/v1/services). Submitting clears the pair\'s services.'));
        }
        for (const s of this.catalog.services) {
          const checked = have.has(String(s.name).toLowerCase()) || have.has(String(s.slug).toLowerCase());
          box.append(el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'service', value: s.name, checked }), ` ${s.name}`));
        }
        const first = box.querySelector('input');
        if (first) first.setAttribute('autofocus', '');
      },
      read: (d) => $$('input[name="service"]:checked', d).map((c) => c.value),
    });
    if (services === null) return;
    this.schedule(p, 'services', 'PUT', 'services', { services },
      `Set services of pair ${shortId(p.id)} to ${services.length ? services.join(', ') : 'none'}`);
  }

  async addNote() {
    const p = this.current();
    if (!p) return;
    const note = await openDialog($('#note-dialog'), {
      prepare: (d) => { $('#note-input', d).value = ''; },
      read: (d) => {
        const v = $('#note-input', d).value.trim();
        if (!v) throw new Error('Write a note first.');
        return v;
      },
    });
    if (note === null) return;
    this.schedule(p, 'note', 'POST', 'notes', { note }, `Add a note to pair ${shortId(p.id)}`);
  }

  // One pending action on one pair, sent after the undo delay with the
  // version the curator saw (advanced by our own earlier commands only).
  schedule(pair, kind, method, route, body, label) {
    const id = pair.id;
    const entry = this.pending.schedule({
      label,
      meta: { kind, pairIds: [id], versions: { [id]: pair.version } },
      run: async (e) => {
        // The version is read when the send starts: an earlier action on this
        // pair still in flight may advance it first.
        await this.serial(id, () => this.send(id, method, route, body, e.meta.versions[id], label));
        this.refreshMarks();
      },
      onCancel: () => this.refreshMarks(),
    });
    this.refreshMarks();
    return entry;
  }

  // Commands on one pair go one at a time, in the order they were decided.
  serial(id, fn) {
    const previous = this.inflight.get(id) || Promise.resolve();
    const next = previous.catch(() => {}).then(fn);
    this.inflight.set(id, next);
    next.finally(() => { if (this.inflight.get(id) === next) this.inflight.delete(id); }).catch(() => {});
    return next;
  }

  // Sends one command; returns true when it was applied.
  async send(id, method, route, body, version, label) {
    try {
      const res = await this.api.request(method, `/api/v1/pairs/${encodeURIComponent(id)}/${route}`, { body, ifMatch: version });
      const pair = res.body;
      if (res.etag !== null && res.etag !== undefined) pair.version = res.etag;
      this.advanceVersions(id, version, pair.version);
      this.mergeIntoList(pair);
      if (this.detail && this.detail.id === id) {
        this.showDetail(pair);
        if (this.historyOpen) this.loadHistory();
      }
      if (route === 'breed') this.loadCatalog();
      announce(`Done: ${label} (now ${pair.status}, version ${pair.version})`);
      return true;
    } catch (err) {
      if (err.status === 409) {
        showError(`Not applied — ${label}: ${problemText(err)}. The pair has been reloaded; decide again.`);
        await this.reloadPair(id);
      } else {
        showError(`Not applied — ${label}: ${problemText(err)}`);
      }
      return false;
    }
  }

  // Our own command moved the pair from `from` to `to`: other actions still
  // pending on it were decided on `from` and now apply on `to`.
  advanceVersions(id, from, to) {
    for (const e of this.pending.forPair(id)) {
      if (String(e.meta.versions[id]) === String(from)) e.meta.versions[id] = to;
    }
  }

  async reloadPair(id) {
    if (this.detail && this.detail.id === id) { await this.loadDetail(id); return; }
    try {
      const { body, etag } = await this.api.get(`/api/v1/pairs/${encodeURIComponent(id)}`);
      if (etag !== null && etag !== undefined) body.version = etag;
      this.mergeIntoList(body);
    } catch { /* the list keeps what it had */ }
  }

  refreshMarks() {
    this.renderList();
    if (this.detail) {
      const labels = this.pending.forPair(this.detail.id).map((e) => e.meta.kind);
      $('#detail-pending').textContent = labels.length ? `pending: ${labels.join(', ')} (u to undo)` : '';
    }
  }

  checkedPairs() {
    return this.items.filter((p) => this.checked.has(p.id));
  }

  bulkVerify() { return this.bulk('verify'); }

  async bulkReject() {
    if (this.checked.size === 0) return;
    const reason = await askReason(`Reject ${this.checked.size} selected pairs`);
    if (reason === null) return;
    return this.bulk('reject', reason);
  }

  bulk(kind, reason) {
    const pairs = this.checkedPairs();
    if (pairs.length === 0) { announce('Select pairs first (checkbox or x)'); return; }
    const versions = Object.fromEntries(pairs.map((p) => [p.id, p.version]));
    const ids = pairs.map((p) => p.id);
    const label = kind === 'verify' ? `Verify ${ids.length} pairs` : `Reject ${ids.length} pairs (${reason})`;
    this.pending.schedule({
      label,
      meta: { kind: `bulk ${kind}`, pairIds: ids, versions },
      run: async (e) => {
        let ok = 0;
        for (const id of ids) {
          const body = kind === 'verify' ? {} : { reason };
          if (await this.serial(id, () => this.send(id, 'POST', kind, body, e.meta.versions[id], `${kind} pair ${shortId(id)}`))) ok += 1;
        }
        announce(`${label}: ${ok} of ${ids.length} applied`);
        if (ok < ids.length) showError(`${label}: ${ids.length - ok} not applied (see above; reloaded)`);
        this.refreshMarks();
      },
      onCancel: () => this.refreshMarks(),
    });
    this.checked.clear();
    this.refreshMarks();
  }
}

function askReason(title) {
  return openDialog($('#reject-dialog'), {
    prepare: (d) => { $('#reject-title', d).textContent = title; $('#reject-reason', d).value = ''; },
    read: (d) => {
      const v = $('#reject-reason', d).value.trim();
      if (!v) throw new Error('A rejection needs a reason.');
      return v;
    },
  });
}

function fillSelect(select, entries) {
  const keep = select.value;
  select.replaceChildren(el('option', { value: '' }, 'Any'),
    ...entries.map((e) => el('option', { value: e.slug || e.name }, `${e.name}${e.pair_count != null ? ` (${e.pair_count})` : ''}`)));
  select.value = entries.some((e) => (e.slug || e.name) === keep) ? keep : '';
}

function confidenceText(c) {
  if (c === null || c === undefined || c === '') return '';
  const n = Number(c);
  return Number.isFinite(n) ? `confidence ${n.toFixed(2)}` : String(c);
}

function safeUrl(s) {
  try { return new URL(s); } catch { return null; }
}
