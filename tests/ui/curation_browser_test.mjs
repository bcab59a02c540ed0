#!/usr/bin/env node
// The curation page in a real browser: starts `furrsight dev` on a fresh data
// directory, drives Debian's Chromium through playwright-core (which never
// downloads a browser), and checks each curation step both on the page and
// through the REST API. Screenshots of every step go to
// $FURRSIGHT_TEST_ARTIFACTS (default build/test-artifacts/ui).
//
//   node tests/ui/curation_browser_test.mjs
//   env: FURRSIGHT_BIN_DIR (default build/bin), FURRSIGHT_TEST_ARTIFACTS,
//        FURRSIGHT_CHROMIUM (default /usr/bin/chromium),
//        NODE_PATH (scripts/node/node_modules, where playwright-core is installed)
//
// Exit 0 when every check passed; 1 with what failed, the page's console
// errors and the tail of dev's output otherwise. dev, the browser and the
// temporary directory are always cleaned up.

import { spawn, execFile, execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const binDir = process.env.FURRSIGHT_BIN_DIR || path.join(repo, 'build/bin');
const artifacts = process.env.FURRSIGHT_TEST_ARTIFACTS || path.join(repo, 'build/test-artifacts/ui');
const chromiumPath = process.env.FURRSIGHT_CHROMIUM || '/usr/bin/chromium';
const UNDO_DELAY_MS = 4000;  // ui/js/pending.js, the default
const LONG_UNDO_DELAY_MS = 15000;  // the longest choice of #undo-delay

// ESM imports ignore NODE_PATH; require() honours it. Fall back to the
// project's own Node tools folder.
function loadPlaywright() {
  const require = createRequire(import.meta.url);
  try {
    return require('playwright-core');
  } catch {
    return require(path.join(repo, 'scripts/node/node_modules/playwright-core'));
  }
}

// ---- checks -----------------------------------------------------------------

class CheckFailed extends Error {}
let step = 'setup';
function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}
function equal(actual, expected, what) {
  check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const started = Date.now();
const log = (m) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${m}`);

// ---- dev ----------------------------------------------------------------------

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'furrsight-ui-test-'));
// mkdtemp makes it 0700; run as root, dev starts PostgreSQL as the postgres user, which must get in.
fs.chmodSync(tmp, 0o755);
const dataDir = path.join(tmp, 'data');
let dev = null;
let devOutput = '';
let browserContext = null;

function startDev() {
  const argv = [path.join(binDir, 'furrsight'), 'dev', '--data-dir', dataDir, '--log-level', 'warn', '--api-port', '0'];
  // dev prints with stdio, fully buffered on a pipe: stdbuf makes it line-buffered
  // so the REST API line arrives while dev keeps running.
  const useStdbuf = fs.existsSync('/usr/bin/stdbuf');
  const [cmd, ...args] = useStdbuf ? ['/usr/bin/stdbuf', '-oL', '-eL', ...argv] : argv;
  // Hermetic: no FURRSIGHT_* setting of the caller's environment (e.g. the test
  // harness's database URL or a model endpoint) reaches dev.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FURRSIGHT_')));
  dev = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  const devLog = fs.createWriteStream(path.join(artifacts, 'dev.log'));
  for (const s of [dev.stdout, dev.stderr]) {
    s.on('data', (d) => { devOutput += d.toString(); devLog.write(d); });
  }
  dev.exited = new Promise((resolve) => dev.on('exit', (code, signal) => resolve({ code, signal })));
  dev.exited.then(() => devLog.end());
}

async function waitForDev(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  dev.exited.then(() => { exited = true; });
  while (Date.now() < deadline) {
    const api = /REST API\s+(http:\/\/[\d.]+:\d+)\s+\((\d+) pairs on the first page/.exec(devOutput);
    const site = /the sample site \((http:\/\/[^)\s]+)\)/.exec(devOutput);
    if (api && site) return { apiUrl: api[1], pairsSeen: Number(api[2]), siteUrl: site[1] };
    check(!exited, 'furrsight dev exited before it printed the REST API line');
    await sleep(250);
  }
  throw new CheckFailed(`furrsight dev printed no REST API line within ${timeoutMs / 1000} s`);
}

async function stopDev() {
  if (!dev || dev.exitCode !== null || dev.signalCode !== null) return;
  try { process.kill(dev.pid, 'SIGINT'); } catch { return; }
  const done = await Promise.race([dev.exited, sleep(20000).then(() => null)]);
  if (done === null) {
    log('dev did not stop within 20 s of SIGINT: SIGKILL');
    try { process.kill(-dev.pid, 'SIGKILL'); } catch { /* gone */ }
    await Promise.race([dev.exited, sleep(5000)]);
  }
}

// ---- the API, for checks from outside the page ----------------------------------

function apiClient(base, key) {
  return async (p, init = {}) => {
    const res = await fetch(base + p, { ...init, headers: { 'X-API-Key': key, ...(init.headers || {}) } });
    const text = await res.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch { body = text; }
    return { status: res.status, body, headers: res.headers };
  };
}

function issueKey(roles) {
  // `source DATA/env` exports the database and Redis URLs of this dev.
  const env = { ...process.env };
  for (const line of fs.readFileSync(path.join(dataDir, 'env'), 'utf8').split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return new Promise((resolve, reject) => {
    execFile(path.join(binDir, 'furrsight'), ['apikeys', 'issue', '--name', 'ui-test', '--roles', roles],
      { env, timeout: 30000 }, (err, stdout, stderr) => {
        if (err) { reject(new Error(`apikeys issue failed: ${stderr || err.message}`)); return; }
        const m = /fs_[0-9a-f]+_[A-Za-z0-9_-]+/.exec(stdout);
        if (!m) { reject(new Error(`no key in: ${stdout}`)); return; }
        resolve(m[0]);
      });
  });
}

// ---- the test -------------------------------------------------------------------

const consoleErrors = [];
const pageErrors = [];
let shotNumber = 0;

async function shot(page, name) {
  shotNumber += 1;
  const file = path.join(artifacts, `${String(shotNumber).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
}

async function run() {
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });
  check(fs.existsSync(path.join(binDir, 'furrsight')), `no furrsight binary in ${binDir} (FURRSIGHT_BIN_DIR)`);
  check(fs.existsSync(chromiumPath), `no Chromium at ${chromiumPath} (apt-get install chromium, or FURRSIGHT_CHROMIUM)`);
  const { chromium } = loadPlaywright();

  step = 'start furrsight dev';
  startDev();
  const { apiUrl, pairsSeen, siteUrl } = await waitForDev(480000);  // a first start on a loaded machine builds the sample site and starts every service
  log(`dev is up: API ${apiUrl}, sample site ${siteUrl}, ${pairsSeen} pairs`);
  check(pairsSeen > 2, `dev reports ${pairsSeen} pairs; the test needs at least 3`);
  // The dev admin key: the admin role may do everything (docs/api.md, Roles), curation included.
  const key = fs.readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim();
  check(/^fs_[0-9a-f]{16}_/.test(key), 'the admin key file holds an API key');
  const keyId = key.split('_')[1];
  const api = apiClient(apiUrl, key);

  // Grooming services for the services dialog (a fresh dev has none; admins add them).
  for (const name of ['Bath', 'Haircut', 'Nail trim']) {
    const added = await api('/api/v1/services', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }),
    });
    equal(added.status, 201, `POST /api/v1/services ${name}`);
  }

  step = 'the page is served without credentials';
  const index = await fetch(`${apiUrl}/ui/`);
  equal(index.status, 200, 'GET /ui/ status');
  check((index.headers.get('content-type') || '').startsWith('text/html'), 'GET /ui/ is HTML');

  step = 'launch Chromium';
  browserContext = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
  const page = browserContext.pages()[0] || await browserContext.newPage();
  page.setDefaultTimeout(15000);
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url || ''})`); });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const liveStreams = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/events/live')) liveStreams.push(r.url()); });

  step = 'sign in';
  await page.goto(`${apiUrl}/`);
  check(page.url().endsWith('/ui/'), `GET / redirects to /ui/ (at ${page.url()})`);
  await page.locator('#signin-form').waitFor();
  await shot(page, 'signin');
  await page.fill('#credential', 'fs_0000000000000000_wrong');
  await page.click('#signin-form button[type="submit"]');
  await page.locator('#signin-error').filter({ hasText: '401' }).waitFor();
  await page.fill('#credential', key);
  await page.click('#signin-form button[type="submit"]');
  await page.locator('#queue-list li[data-pair-id]').first().waitFor();
  const expected = await api('/api/v1/pairs?status=UNVERIFIED&limit=25');
  equal(expected.status, 200, 'GET /api/v1/pairs status');
  const ids = await page.locator('#queue-list li[data-pair-id]').evaluateAll((lis) => lis.map((li) => li.dataset.pairId));
  equal(ids.length, expected.body.items.length, 'pairs on the queue\'s first page');
  equal(ids.join(','), expected.body.items.map((p) => p.id).join(','), 'the queue lists the API\'s unverified pairs in order');
  check(ids.length >= 3, 'at least three pairs in the queue');
  equal(await page.locator('#whoami-text').textContent(), `Signed in: API key ${keyId} (furrsight dev admin; admin)`,
    'who is signed in, as GET /api/v1/me said');
  const [pairA, pairB, pairC] = ids;
  await page.locator(`#detail[data-pair-id="${pairA}"]`).waitFor();
  equal(await page.locator('#detail-status').textContent(), 'UNVERIFIED', 'the first pair\'s status on the page');
  // Both images arrive through the key-authenticated fetch as blobs.
  await page.waitForFunction(() => ['#img-before', '#img-after'].every((s) => {
    const img = document.querySelector(s);
    return img && img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0;
  }));
  await shot(page, 'queue');

  step = 'zoom the images (z)';
  await page.keyboard.press('z');
  check(await page.locator('#images.zoomed').isVisible(), 'z zooms the images');
  const zoomedHeight = await page.locator('#img-after').evaluate((img) => img.getBoundingClientRect().height);
  check(zoomedHeight > 500, `a zoomed image is large (height ${zoomedHeight}px)`);
  await shot(page, 'zoomed');
  await page.keyboard.press('Escape');
  check(!(await page.locator('#images.zoomed').count()), 'Escape zooms out');

  step = 'shortcuts do not fire while typing';
  await page.fill('#filter-min-confidence', '');
  await page.focus('#filter-min-confidence');
  await page.keyboard.type('v');
  equal(await page.locator('#toasts .toast').count(), 0, 'pending actions after typing v in a field');
  await page.fill('#filter-min-confidence', '');
  await page.locator('#detail-title').click();  // focus leaves the field

  step = 'verify with v';
  const beforeVerify = await api(`/api/v1/pairs/${pairA}`);
  equal(beforeVerify.body.status, 'UNVERIFIED', 'pair A before v');
  const pressedAt = Date.now();
  await page.keyboard.press('v');
  await page.locator('#toasts .toast', { hasText: `Verify pair ${pairA.slice(0, 8)}` }).waitFor();
  // Checked before the screenshot: on a loaded machine a screenshot can take a good part of the delay.
  equal((await api(`/api/v1/pairs/${pairA}`)).body.status, 'UNVERIFIED', 'pair A while its verify is pending (not sent yet)');
  check(await page.locator('#toasts .toast-undo').isVisible(), 'the toast offers Undo');
  await shot(page, 'verify-pending');
  await page.locator('#detail-status', { hasText: /^VERIFIED$/ }).waitFor({ timeout: UNDO_DELAY_MS + 10000 });
  const waited = Date.now() - pressedAt;
  check(waited >= UNDO_DELAY_MS - 500, `verify was sent after the undo delay (after ${waited} ms)`);
  equal(await page.locator('#detail-status').textContent(), 'VERIFIED', 'pair A\'s status on the page');
  equal(await page.locator('#toasts .toast').count(), 0, 'no toast once sent');
  const verified = await api(`/api/v1/pairs/${pairA}`);
  equal(verified.body.status, 'VERIFIED', 'GET /api/v1/pairs/A status');
  equal(verified.headers.get('etag'), `"${Number(beforeVerify.headers.get('etag').replaceAll('"', '')) + 1}"`, 'pair A\'s version went up by one');
  const eventsA = await api(`/api/v1/pairs/${pairA}/events`);
  const verifiedEvent = eventsA.body.events.find((e) => e.type === 'PairVerified');
  check(verifiedEvent, 'pair A\'s history has PairVerified');
  equal(verifiedEvent.metadata.actor, `apikey:${keyId}`, 'PairVerified actor');
  equal(await page.locator(`#queue-list li[data-pair-id="${pairA}"] .badge`).textContent(), 'VERIFIED', 'pair A\'s badge in the queue');
  await shot(page, 'verified');

  step = 'reject with r and a reason';
  await page.keyboard.press('j');
  await page.locator(`#detail[data-pair-id="${pairB}"]`).waitFor();
  await page.locator(`#queue-list li[data-pair-id="${pairB}"].selected`).waitFor();
  await page.keyboard.press('r');
  await page.locator('#reject-dialog[open]').waitFor();
  equal(await page.evaluate(() => document.activeElement?.id), 'reject-reason', 'focus inside the reject dialog');
  // Focus stays in the dialog: Tab from its last control comes back to its first.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.getElementById('reject-dialog').contains(document.activeElement)),
    'Tab keeps focus inside the dialog');
  await page.focus('#reject-reason');
  // An empty reason is refused in the dialog.
  await page.keyboard.press('Enter');
  check(await page.locator('#reject-dialog[open]').count() === 1, 'an empty reason keeps the dialog open');
  const reason = `ui test: not the same dog ${Date.now()}`;
  await page.keyboard.type(reason);
  await shot(page, 'reject-dialog');
  await page.keyboard.press('Enter');
  await page.locator('#reject-dialog[open]').waitFor({ state: 'detached' });
  await page.locator('#detail-status', { hasText: /^REJECTED$/ }).waitFor({ timeout: UNDO_DELAY_MS + 10000 });
  equal(await page.locator('#detail-reason').textContent(), reason, 'pair B\'s reject reason on the page');
  const rejected = await api(`/api/v1/pairs/${pairB}`);
  equal(rejected.body.status, 'REJECTED', 'GET /api/v1/pairs/B status');
  equal(rejected.body.reject_reason, reason, 'GET /api/v1/pairs/B reject_reason');
  await shot(page, 'rejected');

  step = 'the history timeline (h)';
  await page.keyboard.press('h');
  await page.locator('#history-list li[data-type="PairRejected"]').waitFor();
  const timeline = await page.locator('#history-list li').evaluateAll((lis) => lis.map((li) => li.dataset.type));
  equal(timeline[0], 'PairProposed', 'the timeline starts with PairProposed');
  equal(timeline[timeline.length - 1], 'PairRejected', 'the timeline ends with PairRejected');
  check((await page.locator('#history-list li[data-type="PairRejected"]').textContent()).includes(reason),
    'the PairRejected entry shows the reason');
  check((await page.locator('#history-list li[data-type="PairRejected"]').textContent()).includes(`apikey:${keyId}`),
    'the PairRejected entry shows the actor');
  await page.locator('#history').scrollIntoViewIfNeeded();
  await shot(page, 'history');

  step = 'undo with u';
  await page.keyboard.press('j');
  await page.locator(`#detail[data-pair-id="${pairC}"]`).waitFor();
  const beforeUndo = await api(`/api/v1/pairs/${pairC}`);
  equal(beforeUndo.body.status, 'UNVERIFIED', 'pair C before v');
  await page.keyboard.press('v');
  await page.locator('#toasts .toast', { hasText: `Verify pair ${pairC.slice(0, 8)}` }).waitFor();
  await page.keyboard.press('u');  // at once (the verify-pending screenshot shows a pending toast)
  equal(await page.locator('#toasts .toast').count(), 0, 'u removes the pending toast');
  await page.locator('#status', { hasText: 'Undone' }).waitFor();
  await sleep(UNDO_DELAY_MS + 1500);
  const afterUndo = await api(`/api/v1/pairs/${pairC}`);
  equal(afterUndo.body.status, 'UNVERIFIED', 'GET /api/v1/pairs/C status after undo');
  equal(afterUndo.headers.get('etag'), beforeUndo.headers.get('etag'), 'pair C\'s version after undo');
  const eventsC = await api(`/api/v1/pairs/${pairC}/events`);
  check(!eventsC.body.events.some((e) => e.type === 'PairVerified'), 'pair C has no PairVerified event');
  equal(await page.locator('#detail-status').textContent(), 'UNVERIFIED', 'pair C\'s status on the page');
  await shot(page, 'undone');

  step = 'breed (b), note (n) and services (s) pending together on one pair';
  // Three dialogs typed into take a while on a loaded machine: the curator's longer undo delay
  // keeps the first action pending until the third is queued.
  await page.selectOption('#undo-delay', String(LONG_UNDO_DELAY_MS));
  equal(await page.evaluate(() => localStorage.getItem('furrsight.undoDelayMs')), String(LONG_UNDO_DELAY_MS), 'the undo delay kept in this browser');
  await page.locator('#detail-title').click();  // focus leaves the select, so the shortcuts work again
  const firstQueuedAt = Date.now();
  await page.keyboard.press('b');
  await page.locator('#breed-dialog[open]').waitFor();
  equal(await page.evaluate(() => document.activeElement?.id), 'breed-input', 'focus in the breed dialog');
  await page.keyboard.type('Standard Poodle');
  await page.keyboard.press('Enter');
  await page.locator('#breed-dialog[open]').waitFor({ state: 'detached' });
  await page.keyboard.press('n');
  await page.locator('#note-dialog[open]').waitFor();
  const note = `ui test note ${Date.now()}`;
  await page.keyboard.type(note);
  await page.click('#note-dialog button[type="submit"]');
  await page.locator('#note-dialog[open]').waitFor({ state: 'detached' });
  await page.keyboard.press('s');
  await page.locator('#services-dialog[open]').waitFor();
  const choices = await page.locator('#services-choices input[name="service"]').evaluateAll((cs) => cs.map((c) => c.value));
  equal(choices.join(','), 'Bath,Haircut,Nail trim', 'the services dialog offers the catalog');
  await page.check('#services-choices input[value="Haircut"]');
  await page.check('#services-choices input[value="Bath"]');
  await page.click('#services-dialog button[type="submit"]');
  await page.locator('#services-dialog[open]').waitFor({ state: 'detached' });
  // The dialog's close event, which hands its value to the page, comes a moment after [open] goes.
  await page.locator('#toasts .toast', { hasText: 'Set services of pair' }).waitFor();
  const queuedIn = Date.now() - firstQueuedAt;
  log(`three actions queued in ${queuedIn} ms`);
  check(queuedIn < LONG_UNDO_DELAY_MS, `three actions queued within the undo delay (took ${queuedIn} ms)`);
  equal(await page.locator('#toasts .toast').count(), 3, 'three actions pending');
  check((await page.locator('#toasts .toast .toast-countdown').last().textContent()).match(/sending in 1[0-5] s/), 'the toast counts down from the chosen delay');
  await shot(page, 'three-pending');
  await page.locator('#toasts .toast').first().waitFor({ state: 'detached', timeout: LONG_UNDO_DELAY_MS + 10000 });
  await page.waitForFunction(() => document.querySelectorAll('#toasts .toast').length === 0, null, { timeout: LONG_UNDO_DELAY_MS + 10000 });
  await page.selectOption('#undo-delay', String(UNDO_DELAY_MS));
  await page.locator('#detail-title').click();
  await page.locator('#detail-services', { hasText: 'Haircut' }).waitFor();
  await page.locator('#detail-notes', { hasText: note }).waitFor();
  const labelled = await api(`/api/v1/pairs/${pairC}`);
  equal(labelled.body.breed, 'Standard Poodle', 'GET /api/v1/pairs/C breed');
  equal(JSON.stringify([...labelled.body.services].sort()), JSON.stringify(['Bath', 'Haircut']), 'GET /api/v1/pairs/C services');
  check(labelled.body.notes.some((n) => n.note === note), 'GET /api/v1/pairs/C has the note');
  equal(labelled.body.status, 'UNVERIFIED', 'pair C is still unverified');
  equal(await page.locator('#error').isVisible(), false, 'no error shown (each action went with the version the one before it made)');
  check((await page.locator('#detail-breed').textContent()).startsWith('Standard Poodle'), 'the breed on the page');
  await shot(page, 'labelled');

  step = 'bulk verify (x selects, "Verify selected")';
  const [pairD, pairE] = [ids[3], ids[4]];
  check(pairD && pairE, 'five pairs in the queue');
  await page.keyboard.press('j');
  await page.locator(`#detail[data-pair-id="${pairD}"]`).waitFor();
  await page.keyboard.press('x');
  await page.keyboard.press('j');
  await page.locator(`#detail[data-pair-id="${pairE}"]`).waitFor();
  await page.keyboard.press('x');
  equal(await page.locator('#queue-list .pick:checked').count(), 2, 'two pairs selected');
  equal(await page.locator('#bulk-verify').textContent(), 'Verify selected (2)', 'the bulk button');
  await page.click('#bulk-verify');
  await page.locator('#toasts .toast', { hasText: 'Verify 2 pairs' }).waitFor();
  await shot(page, 'bulk-pending');
  for (const id of [pairD, pairE]) {
    await page.locator(`#queue-list li[data-pair-id="${id}"] .badge`, { hasText: /^VERIFIED$/ })
      .waitFor({ timeout: UNDO_DELAY_MS + 10000 });
    equal((await api(`/api/v1/pairs/${id}`)).body.status, 'VERIFIED', `GET /api/v1/pairs/${id.slice(0, 8)} after the bulk verify`);
  }
  equal(await page.locator('#queue-list .pick:checked').count(), 0, 'the selection is cleared');
  await shot(page, 'bulk-verified');

  step = 'a stale version: 409 shown, the pair reloaded';
  const pairF = ids[5];
  check(pairF, 'six pairs in the queue');
  await page.keyboard.press('j');
  await page.locator(`#detail[data-pair-id="${pairF}"]`).waitFor();
  equal(await page.locator('#detail-version').textContent(), '1', 'pair F\'s version on the page');
  // Someone else adds a note while the page still shows version 1.
  const other = await api(`/api/v1/pairs/${pairF}/notes`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'If-Match': '"1"' },
    body: JSON.stringify({ note: 'changed behind the page' }),
  });
  equal(other.status, 200, 'a note added through the API');
  await page.keyboard.press('v');
  await page.locator('#error', { hasText: '409 conflict' }).waitFor({ timeout: UNDO_DELAY_MS + 10000 });
  await page.locator('#detail-version', { hasText: /^2$/ }).waitFor();
  await page.locator('#detail-notes', { hasText: 'changed behind the page' }).waitFor();
  equal((await api(`/api/v1/pairs/${pairF}`)).body.status, 'UNVERIFIED', 'pair F stays unverified after the 409');
  equal(await page.locator('#detail-status').textContent(), 'UNVERIFIED', 'pair F\'s status on the page');
  await shot(page, 'conflict');

  step = 'a job through the form';
  await page.click('#views-nav button[data-view="jobs"]');
  await page.locator('#job-form').waitFor();
  await page.selectOption('#job-type', 'SCRAPE_URL');
  await page.fill('#job-payload', '{"max_pages": 3}');
  await page.click('#job-form button[type="submit"]');
  await page.locator('#job-error', { hasText: '400' }).waitFor();
  const problem = await page.locator('#job-error').textContent();
  check(/urls/.test(problem), `the problem's detail names the field (${problem})`);
  await shot(page, 'job-error');
  const payload = { urls: [`${siteUrl.replace(/\/$/, '')}/`], max_depth: 1, max_pages: 3, max_images: 10 };
  await page.fill('#job-payload', JSON.stringify(payload, null, 2));
  await page.click('#job-form button[type="submit"]');
  await page.locator('#job-current').waitFor();
  await page.locator('#job-status', { hasText: 'COMPLETED' }).waitFor({ timeout: 90000 });
  equal(await page.locator('#job-progress-label').textContent(), '100%', 'the job\'s progress label');
  equal(await page.locator('#job-progress').evaluate((p) => p.value), 100, 'the job\'s progress bar');
  equal(await page.locator('#job-error').textContent(), '', 'no job error left on the form');
  const jobId = (await page.locator('#job-id').textContent()).trim();
  const job = await api(`/api/v1/jobs/${jobId}`);
  equal(job.status, 200, 'GET /api/v1/jobs/{id} status');
  equal(job.body.job_type, 'SCRAPE_URL', 'the submitted job\'s type');
  equal(job.body.status, 'COMPLETED', 'the submitted job\'s status in the API');
  equal(JSON.stringify(job.body.payload.urls), JSON.stringify(payload.urls), 'the submitted job\'s urls');
  check(liveStreams.some((u) => u.includes('category=job')), 'the page followed the job on /api/v1/events/live?category=job');
  await shot(page, 'job-completed');

  step = 'an export through the form, downloaded from its link';
  await page.selectOption('#job-type', 'EXPORT_DATASET');
  await page.fill('#job-payload', JSON.stringify({ format: 'jsonl', filters: { status: ['UNVERIFIED', 'VERIFIED', 'REJECTED'] } }));
  await page.click('#job-form button[type="submit"]');
  await page.locator('#job-type-shown', { hasText: 'EXPORT_DATASET' }).waitFor();
  await page.locator('#job-status', { hasText: 'COMPLETED' }).waitFor({ timeout: 90000 });
  const link = page.locator('#job-download-link');
  await link.waitFor();
  const href = await link.getAttribute('href');
  check(/^\/api\/v1\/blobs\/exports\/.+\.jsonl\?expires=\d+&signature=/.test(href), `a presigned download link (${href})`);
  const downloaded = await fetch(apiUrl + href);  // no key: the link is the credential
  equal(downloaded.status, 200, 'the download link answers');
  const lines = (await downloaded.text()).trim().split('\n').map((l) => JSON.parse(l));
  // The read model may be a moment behind the log the export read.
  let listed = -1;
  for (let i = 0; i < 40 && listed !== lines.length; i++, await sleep(250)) {
    listed = 0;
    for (const status of ['UNVERIFIED', 'VERIFIED', 'REJECTED'])
      listed += (await api(`/api/v1/pairs?status=${status}&limit=200`)).body.items.length;
  }
  equal(lines.length, listed, 'the export holds every pair the API lists');
  check(lines.some((l) => l.status === 'REJECTED' && l.reject_reason === reason), 'the rejected pair and its reason are in the export');
  await shot(page, 'export-completed');

  step = 'the auditor feed';
  await page.click('#views-nav button[data-view="audit"]');
  await page.locator('#audit-table tbody tr').first().waitFor();
  const firstType = await page.locator('#audit-table tbody tr').first().getAttribute('data-type');
  const feed = await api('/api/v1/events?after=0&limit=1');
  equal(firstType, feed.body.events[0].type, 'the feed starts with the log\'s first event');
  await shot(page, 'audit-feed');
  await page.fill('#audit-type', 'PairRejected');
  await page.click('#audit-form button[type="submit"]');
  await page.locator('#audit-table tbody tr[data-type="PairRejected"]', { hasText: reason }).waitFor();
  equal(await page.locator('#audit-table tbody tr:not([data-type="PairRejected"])').count(), 0, 'the type filter');
  await shot(page, 'audit-filtered');

  step = 'the auditor feed refuses a researcher key';
  const researcherKey = await issueKey('researcher');
  const researcher = apiClient(apiUrl, researcherKey);
  // A new key works once the projector has applied ApiKeyIssued.
  const keyDeadline = Date.now() + 15000;
  while ((await researcher('/api/v1/pairs?limit=1')).status !== 200) {
    check(Date.now() < keyDeadline, 'the researcher key was not accepted within 15 s');
    await sleep(250);
  }
  const refusal = await researcher('/api/v1/events?after=0&limit=1');
  equal(refusal.status, 403, 'GET /api/v1/events with a researcher key');
  await page.click('#sign-out');
  await page.locator('#signin-form').waitFor();
  equal(await page.evaluate(() => sessionStorage.getItem('furrsight.credential')), null, 'sign-out forgets the key');
  await page.fill('#credential', researcherKey);
  await page.click('#signin-form button[type="submit"]');
  await page.locator('#queue-list li[data-pair-id]').first().waitFor();
  await page.click('#views-nav button[data-view="audit"]');
  await page.locator('#audit-message', { hasText: 'auditor' }).waitFor();
  check((await page.locator('#audit-message').textContent()).includes(refusal.body.detail),
    `the page shows the 403's detail (${refusal.body.detail})`);
  equal(await page.locator('#audit-table tbody tr').count(), 0, 'no feed rows without the auditor role');
  await shot(page, 'audit-forbidden');

  step = 'no uncaught errors in the page';
  check(pageErrors.length === 0, `uncaught page errors: ${pageErrors.join(' | ')}`);

  step = 'Ctrl-C stops furrsight dev and everything it started';
  await browserContext.close();
  browserContext = null;
  process.kill(dev.pid, 'SIGINT');
  const stopped = await Promise.race([dev.exited, sleep(30000).then(() => null)]);
  check(stopped !== null, 'dev stops within 30 s of Ctrl-C');
  equal(stopped.code, 0, 'dev\'s exit code after Ctrl-C');
  // PostgreSQL (its data directory), Redis and the worker (blob directory) name the data directory.
  const left = execSync('ps -eo pid=,args=').toString().split('\n')
    .filter((l) => l.includes(tmp) && !l.includes('chromium-profile'));
  equal(left.length, 0, `processes of this dev still running after Ctrl-C: ${left.join(' | ')}`);
}

// ---- main -------------------------------------------------------------------------

let cleaning = null;
async function cleanup() {
  if (cleaning) return cleaning;
  cleaning = (async () => {
    if (browserContext) { try { await browserContext.close(); } catch { /* already gone */ } }
    await stopDev();
    fs.rmSync(tmp, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    console.error(`curation_browser_test: ${sig} during "${step}"; cleaning up`);
    await cleanup();
    process.exit(1);
  });
}

let code = 0;
try {
  await run();
  log(`PASS: the curation page (screenshots in ${artifacts})`);
} catch (err) {
  code = 1;
  console.error(`\nFAIL in step "${step}": ${err instanceof CheckFailed ? err.message : (err.stack || err)}`);
  console.error(`page console errors (${consoleErrors.length}):\n  ${consoleErrors.join('\n  ') || '(none)'}`);
  if (pageErrors.length) console.error(`uncaught page errors:\n  ${pageErrors.join('\n  ')}`);
  console.error(`last lines of furrsight dev's output:\n${devOutput.split('\n').slice(-25).join('\n')}`);
  try {
    const page = browserContext && browserContext.pages()[0];
    if (page) await page.screenshot({ path: path.join(artifacts, 'failure.png') });
  } catch { /* no screenshot */ }
} finally {
  await cleanup();
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
process.exit(code);
