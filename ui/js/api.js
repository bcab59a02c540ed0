// The REST API client of the curation page (docs/api.md). One credential per
// request: an API key goes as X-API-Key, an OIDC token as a Bearer header.
// Errors are ApiError values carrying the problem+json body, so callers can
// show `detail` (what to do) and branch on `status` or `code`.

export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem || {};
    super(p.detail || p.title || `HTTP ${status}`);
    this.status = status;
    this.code = p.code || '';
    this.title = p.title || '';
    this.problem = p;
  }
}

export class Api {
  // credential: {kind: 'api_key' | 'bearer', value: string}
  constructor(credential, base = '') {
    this.credential = credential;
    this.base = base;
  }

  headers(extra = {}) {
    const h = { ...extra };
    if (this.credential.kind === 'bearer') h['Authorization'] = `Bearer ${this.credential.value}`;
    else h['X-API-Key'] = this.credential.value;
    return h;
  }

  // Returns {body, etag, status, headers}; throws ApiError for non-2xx answers.
  async request(method, path, { body, ifMatch, signal } = {}) {
    const headers = this.headers({ Accept: 'application/json' });
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (ifMatch !== undefined && ifMatch !== null) headers['If-Match'] = `"${ifMatch}"`;
    let res;
    try {
      res = await fetch(this.base + path, {
        method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, { title: 'Network error', detail: `the API did not answer (${e.message})` });
    }
    const text = await res.text();
    let parsed = null;
    if (text) {
      try { parsed = JSON.parse(text); } catch { parsed = { detail: text.slice(0, 300) }; }
    }
    if (!res.ok) throw new ApiError(res.status, parsed);
    return { body: parsed, etag: parseEtag(res.headers.get('ETag')), status: res.status, headers: res.headers };
  }

  get(path, opts) { return this.request('GET', path, opts); }

  // An image URL (/api/v1/images/<sha>) answers 302 to a presigned link; an
  // <img> cannot send the credential, so fetch it (fetch follows the
  // redirect) and hand back an object URL for the blob.
  async imageObjectUrl(path, signal) {
    const res = await fetch(this.base + path, { headers: this.headers(), signal });
    if (!res.ok) {
      let problem = null;
      try { problem = await res.json(); } catch { /* not JSON */ }
      throw new ApiError(res.status, problem);
    }
    return URL.createObjectURL(await res.blob());
  }

  // Server-Sent Events over fetch (EventSource cannot send headers). Calls
  // onEvent(parsedData, id) per `data:` message; resolves when the stream
  // ends, rejects if it cannot be opened. Abort with `signal`.
  async stream(path, { onEvent, onOpen, signal }) {
    const res = await fetch(this.base + path, {
      headers: this.headers({ Accept: 'text/event-stream' }), signal,
    });
    if (!res.ok || !res.body) {
      let problem = null;
      try { problem = await res.json(); } catch { /* not JSON */ }
      throw new ApiError(res.status, problem);
    }
    if (onOpen) onOpen();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n/g, '\n');
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let data = '', id = '', type = 'message';
        for (const line of block.split('\n')) {
          if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(5).replace(/^ /, '');
          else if (line.startsWith('id:')) id = line.slice(3).trim();
          else if (line.startsWith('event:')) type = line.slice(6).trim();
        }
        if (!data) continue;  // comments and keep-alives
        if (type === 'error') {
          // The server's last word before it closes the stream (say, a revoked key).
          let problem = null;
          try { problem = JSON.parse(data); } catch { /* not JSON */ }
          reader.cancel().catch(() => {});
          throw new ApiError(problem && problem.code === 'unauthenticated' ? 401 : 503, problem);
        }
        try { onEvent(JSON.parse(data), id); } catch (e) { console.warn('bad SSE message', e); }
      }
    }
  }
}

function parseEtag(value) {
  if (!value) return null;
  const m = /^(?:W\/)?"?([^"]*)"?$/.exec(value.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : m[1];
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
