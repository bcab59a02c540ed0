// FurrSight curation page: sign-in, the three views (pairs, jobs, audit feed)
// and the keyboard shortcuts. Vanilla ES modules, no build step; the page
// holds no data of its own and calls the REST API like any other client.

import { Api, ApiError } from './js/api.js';
import { $, $$, announce, showError, problemText, openDialog, isDialogOpen } from './js/dom.js';
import { PendingActions, savedUndoDelayMs, saveUndoDelayMs } from './js/pending.js';
import { Queue } from './js/queue.js';
import { Jobs } from './js/jobs.js';
import { Audit } from './js/audit.js';

const STORAGE_KEY = 'furrsight.credential';

const app = {
  api: null,
  pending: null,
  queue: null,
  jobs: null,
  audit: null,
  view: 'signin',
};

function storedCredential() {
  try {
    const c = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    return c && c.value ? c : null;
  } catch {
    return null;
  }
}

function describe(credential) {
  if (credential.kind === 'api_key') {
    const m = /^fs_([0-9a-f]+)_/.exec(credential.value);
    return `API key ${m ? m[1] : '(unrecognised format)'}`;
  }
  try {
    const claims = JSON.parse(atob(credential.value.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return `OIDC ${claims.name || claims.preferred_username || claims.email || claims.sub || 'token'}`;
  } catch {
    return 'OIDC bearer token';
  }
}

async function signIn(credential) {
  const api = new Api(credential);
  // One read checks the credential (401: unknown or malformed; 403: no role)
  // and says who the API takes us for.
  const me = (await api.get('/api/v1/me')).body;
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
  app.api = api;
  app.pending = new PendingActions($('#toasts'));
  app.queue = new Queue(api, app.pending);
  app.jobs = new Jobs(api);
  app.audit = new Audit(api);
  $('#whoami-text').textContent = `Signed in: ${describe(credential)} (${me.display_name || me.subject}; ${me.roles.join(', ')})`;
  $('#whoami').hidden = false;
  $('#views-nav').hidden = false;
  showView('curation');
  await app.queue.loadCatalog();
  await app.queue.reload();
  // The sign-in form is gone: start the keyboard at the top of the content (Tab reaches the filters).
  $('#main').focus();
  announce(`Signed in. ${app.queue.items.length} pairs in the queue.`);
}

function signOut() {
  if (app.pending) {
    const n = app.pending.size;
    app.pending.cancelAll();
    clearInterval(app.pending.tick);
    if (n) announce(`${n} pending actions were not sent`);
  }
  if (app.jobs) app.jobs.stop();
  if (app.queue) app.queue.destroy();
  sessionStorage.removeItem(STORAGE_KEY);
  Object.assign(app, { api: null, pending: null, queue: null, jobs: null, audit: null });
  // Views hold the previous user's data: start from a clean page.
  location.reload();
}

function showView(name) {
  app.view = name;
  for (const v of ['signin', 'curation', 'jobs', 'audit']) $(`#${v}-view`).hidden = v !== name;
  for (const b of $$('#views-nav button')) {
    if (b.dataset.view === name) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
  }
  showError('');
  const titles = { signin: 'Sign in', curation: 'Pairs', jobs: 'Jobs', audit: 'Audit feed' };
  if (name !== 'signin') announce(`${titles[name]} view`);
  if (name === 'audit' && app.audit && !app.audit.loaded) app.audit.load(true);
  if (name === 'jobs' && app.jobs) app.jobs.loadRecent();
}

function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
  return false;
}

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if (!app.api || isDialogOpen() || isTyping(e.target)) return;
  if (e.key === '?') { e.preventDefault(); openDialog($('#help-dialog')); return; }
  if (app.view !== 'curation') return;
  const q = app.queue;
  if (e.key === 'Escape' && q.zoomed) { e.preventDefault(); q.toggleZoom(false); return; }
  const actions = {
    j: () => q.move(1),
    k: () => q.move(-1),
    v: () => q.verify(),
    r: () => q.reject(),
    b: () => q.setBreed(),
    s: () => q.setServices(),
    n: () => q.addNote(),
    u: () => app.pending.undoLast(),
    x: () => q.toggleChecked(),
    h: () => q.toggleHistory(),
    z: () => q.toggleZoom(),
  };
  const act = actions[e.key];
  if (!act) return;
  e.preventDefault();
  Promise.resolve(act()).catch((err) => showError(problemText(err)));
}

function bindSignIn() {
  const form = $('#signin-form');
  const input = $('#credential');
  const label = $('#credential-label');
  for (const r of $$('input[name="kind"]', form)) {
    r.addEventListener('change', () => {
      label.textContent = r.value === 'bearer' && r.checked ? 'Bearer token (JWT)' : 'API key';
    });
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const kind = new FormData(form).get('kind');
    const value = input.value.trim().replace(/^(Bearer|ApiKey)\s+/i, '');
    const error = $('#signin-error');
    error.textContent = '';
    if (!value) { error.textContent = 'Paste a credential first.'; input.focus(); return; }
    if (kind === 'api_key' && !value.startsWith('fs_')) {
      error.textContent = 'An API key starts with fs_ (or choose "OIDC bearer token").';
      input.focus();
      return;
    }
    try {
      await signIn({ kind, value });
      input.value = '';
    } catch (err) {
      error.textContent = err instanceof ApiError ? `Sign-in failed: ${problemText(err)}` : `Sign-in failed: ${err.message}`;
      input.focus();
    }
  });
}

function main() {
  bindSignIn();
  $('#sign-out').addEventListener('click', signOut);
  $('#help-button').addEventListener('click', () => openDialog($('#help-dialog')));
  $('#undo-delay').value = String(savedUndoDelayMs());
  $('#undo-delay').addEventListener('change', (e) => {
    saveUndoDelayMs(Number(e.target.value));
    announce(`Actions now wait ${Number(e.target.value) / 1000} seconds before they are sent`);
  });
  for (const b of $$('#views-nav button')) b.addEventListener('click', () => showView(b.dataset.view));
  document.addEventListener('keydown', onKey);
  window.addEventListener('beforeunload', (e) => {
    if (app.pending && app.pending.size > 0) { e.preventDefault(); e.returnValue = ''; }
  });
  const saved = storedCredential();
  if (saved) {
    signIn(saved).catch((err) => {
      sessionStorage.removeItem(STORAGE_KEY);
      showView('signin');
      $('#signin-error').textContent = `The saved credential no longer works: ${problemText(err)}`;
    });
  } else {
    showView('signin');
    $('#credential').focus();
  }
}

main();
