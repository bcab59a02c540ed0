// The job form and a submitted job's live progress: events of category job
// from the SSE stream (fetch + ReadableStream, since EventSource cannot send
// the key), each one answered by a read of GET /api/v1/jobs/{id}; when the
// stream cannot be opened (403, 503 when the API's stream slots are taken, a
// network error) it polls that read instead, until a terminal status.

import { query } from './api.js';
import { $, el, announce, problemText, formatTime } from './dom.js';

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
const POLL_MS = 1000;
const SAFETY_POLL_MS = 5000;

export const EXAMPLES = {
  SCRAPE_URL: { urls: ['https://groomers.example/gallery'], max_depth: 1, max_pages: 5, max_images: 20 },
  BATCH_INFERENCE: { status: 'UNVERIFIED', limit: 20 },
  VALIDATE_IMAGES: { crawl_job_id: '<a SCRAPE_URL job id>' },
  GENERATE_QUERIES: { topic: 'poodle grooming', count: 10 },
  EXPORT_DATASET: { format: 'jsonl' },
};

export class Jobs {
  constructor(api) {
    this.api = api;
    this.job = null;
    this.abort = null;
    this.pollTimer = null;
    this.exampleShown = '';
    $('#job-form').addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    $('#job-type').addEventListener('change', () => this.fillExample());
    $('#jobs-refresh').addEventListener('click', () => this.loadRecent());
    this.fillExample(true);
  }

  // Replaces the payload with the type's example unless the user edited it.
  fillExample(force = false) {
    const area = $('#job-payload');
    if (!force && area.value.trim() !== '' && area.value !== this.exampleShown) return;
    this.exampleShown = JSON.stringify(EXAMPLES[$('#job-type').value] || {}, null, 2);
    area.value = this.exampleShown;
  }

  stop() {
    if (this.abort) { this.abort.abort(); this.abort = null; }
    if (this.pollTimer) { clearTimeout(this.pollTimer); this.pollTimer = null; }
  }

  async submit() {
    const errorBox = $('#job-error');
    errorBox.textContent = '';
    const type = $('#job-type').value;
    let payload;
    const text = $('#job-payload').value.trim();
    try {
      payload = text ? JSON.parse(text) : undefined;
    } catch (e) {
      errorBox.textContent = `The payload is not valid JSON: ${e.message}`;
      $('#job-payload').focus();
      return;
    }
    if (payload !== undefined && (payload === null || typeof payload !== 'object' || Array.isArray(payload))) {
      errorBox.textContent = 'The payload must be a JSON object.';
      return;
    }
    const submitButton = $('#job-form button[type="submit"]');
    submitButton.disabled = true;
    try {
      const body = payload === undefined ? { type } : { type, payload };
      const res = await this.api.request('POST', '/api/v1/jobs', { body });
      const id = res.body.id;
      this.stop();
      this.job = { id, job_type: type, status: 'PENDING', progress: 0, counters: {} };
      this.render();
      announce(`Job ${id} ${res.body.created === false ? 'already existed' : 'submitted'}`);
      this.follow(id);
    } catch (err) {
      errorBox.textContent = `Not submitted: ${problemText(err)}`;
    } finally {
      submitButton.disabled = false;
    }
  }

  follow(id) {
    const abort = new AbortController();
    this.abort = abort;
    this.setMode('opening the live stream …');
    // Read the job once the stream is open, so nothing between submit and open is missed.
    this.api.stream(`/api/v1/events/live${query({ category: 'job' })}`, {
      signal: abort.signal,
      onOpen: () => {
        this.setMode('live (server-sent events)');
        this.refresh(id);
        // A slow check besides the stream, in case it stalls behind a proxy.
        const safety = () => {
          if (abort.signal.aborted || this.isDone(id)) return;
          this.refresh(id).then(() => { if (this.abort === abort) this.pollTimer = setTimeout(safety, SAFETY_POLL_MS); });
        };
        this.pollTimer = setTimeout(safety, SAFETY_POLL_MS);
      },
      onEvent: (ev) => {
        if (ev.stream_id !== `job-${id}`) return;
        if (ev.payload && typeof ev.payload.progress === 'number' && this.job && this.job.id === id) {
          this.job.progress = ev.payload.progress;
          this.render();
        }
        // The event is in the log; the jobs read model shows it a moment later.
        this.refresh(id, ev.version);
      },
    }).then(() => {
      if (!abort.signal.aborted && !this.isDone(id)) { this.setMode('stream ended; polling'); this.poll(id); }
    }).catch((err) => {
      if (abort.signal.aborted) return;
      this.setMode(`polling every ${POLL_MS / 1000} s (live stream unavailable: ${problemText(err)})`);
      this.poll(id);
    });
  }

  isDone(id) {
    return this.job && this.job.id === id && TERMINAL.has(this.job.status);
  }

  poll(id) {
    const step = async () => {
      await this.refresh(id);
      if (!this.isDone(id) && this.job && this.job.id === id) this.pollTimer = setTimeout(step, POLL_MS);
    };
    step();
  }

  // Reads the job row; with minVersion, waits (briefly) until the read model
  // has caught up with that event of the job's stream.
  async refresh(id, minVersion = 0) {
    try {
      let body;
      for (let attempt = 0; ; attempt += 1) {
        ({ body } = await this.api.get(`/api/v1/jobs/${encodeURIComponent(id)}`));
        if (Number(body.version || 0) >= minVersion || attempt >= 25) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      if (!this.job || this.job.id !== id) return;
      if (Number(this.job.version || 0) > Number(body.version || 0)) return;  // an older read finished late
      this.job = body;
      this.render();
      if (TERMINAL.has(body.status)) {
        this.stop();
        this.setMode(`done (${body.status})`);
        announce(`Job ${shortId(id)} ${body.status}`);
        this.loadRecent();
      }
    } catch (err) {
      // The read model may not have the job yet right after the 202.
      if (err.status !== 404) $('#job-error').textContent = `Could not read the job: ${problemText(err)}`;
    }
  }

  setMode(text) { $('#job-feed-mode').textContent = text; }

  render() {
    const j = this.job;
    $('#job-current').hidden = !j;
    if (!j) return;
    $('#job-id').textContent = j.id;
    $('#job-type-shown').textContent = j.job_type || j.type || '';
    const status = $('#job-status');
    status.textContent = j.status;
    status.className = `badge status-${String(j.status).toLowerCase()}`;
    const progress = TERMINAL.has(j.status) && j.status === 'COMPLETED' ? 100 : Number(j.progress || 0);
    $('#job-progress').value = progress;
    $('#job-progress-label').textContent = `${progress}%`;
    const counters = Object.entries(j.counters || {}).map(([k, v]) => `${k} ${v}`).join(', ');
    $('#job-counters').textContent = counters || '—';
    $('#job-error-message').textContent = j.error_message || '—';
    // A finished export: its presigned link (the link is the credential; docs/export.md).
    const result = j.result || {};
    const download = $('#job-download');
    if (result.download_url) {
      const expires = result.expires_at_us ? ` (expires ${formatTime(new Date(result.expires_at_us / 1000).toISOString())})` : '';
      download.replaceChildren(el('a', { href: result.download_url, id: 'job-download-link' },
        `${result.pairs ?? ''} pairs, ${result.format ?? ''}, ${result.file_size ?? '?'} bytes`), expires);
    } else {
      download.textContent = '—';
    }
  }

  async loadRecent() {
    const body = $('#jobs-table tbody');
    try {
      const { body: page } = await this.api.get(`/api/v1/jobs${query({ limit: 10 })}`);
      body.replaceChildren(...(page.items || []).map((j) => el('tr', {},
        el('td', {}, formatTime(j.created_at)), el('td', {}, j.job_type), el('td', {}, j.status),
        el('td', {}, `${j.progress ?? 0}%`), el('td', { class: 'mono' }, j.id))));
    } catch (err) {
      body.replaceChildren(el('tr', {}, el('td', { colspan: '5' }, `Could not list jobs: ${problemText(err)}`)));
    }
  }
}

const shortId = (id) => String(id).slice(0, 8);
