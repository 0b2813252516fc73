// Page helpers for the dashboard's browser tests: how a test signs in, opens
// a page, waits for the connection indicator, reads the feed and the outbox.
// They use only the hooks of the dashboard contract (ids, data- attributes,
// form field names), so a failure here means the UI broke that contract.

export const wsUrl = (server, ws, tail) => `${server.base}/#/w/${ws}/${tail}`;

// Clicks the form's submit button (a <button> without a type is one too).
export async function submit(page, formSelector) {
  await page.locator(formSelector)
    .locator('button:not([type]), button[type="submit"], input[type="submit"]').first().click();
}

export async function fillSignIn(page, email, password) {
  await page.fill('form#signin input[name="email"]', email);
  await page.fill('form#signin input[name="password"]', password);
  await submit(page, 'form#signin');
}

// Waits for #connection to report `state` (live | reconnecting | offline | signed-out).
export async function waitState(page, state, timeout = 10000) {
  try {
    await page.waitForSelector(`#connection[data-state="${state}"]`, { state: 'attached', timeout });
  } catch (e) {
    const now = await page.$eval('#connection', (el) => el.dataset.state).catch(() => '(no #connection)');
    throw new Error(`#connection never reached data-state=${state} within ${timeout} ms (it is ${now})`);
  }
}

// Opens a workspace page by its hash route and waits for it to render.
export async function openPage(page, server, ws, tail, readySelector) {
  await page.goto(wsUrl(server, ws, tail));
  if (readySelector) await page.waitForSelector(readySelector, { state: 'attached' });
}

// The data-seq of every feed row, in page order (newest first).
export function feedSeqs(page) {
  return page.$$eval('ol#feed > li[data-seq]', (ls) => ls.map((l) => Number(l.dataset.seq)));
}

// Waits until some feed row's text contains `text`.
export async function waitFeedRow(page, text, timeout = 10000) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('ol#feed > li')].some((li) => li.textContent.includes(t)),
    text, { timeout });
}

// Asserts the feed holds every seq from `first` to `last` exactly once,
// newest first. Returns a message describing what is wrong, or ''.
export function checkSeqs(seqs, first, last) {
  const problems = [];
  const seen = new Map();
  for (const s of seqs) seen.set(s, (seen.get(s) ?? 0) + 1);
  const dups = [...seen].filter(([, n]) => n > 1).map(([s, n]) => `${s}×${n}`);
  if (dups.length) problems.push(`duplicates: ${dups.join(', ')}`);
  const missing = [];
  for (let s = first; s <= last; s++) if (!seen.has(s)) missing.push(s);
  if (missing.length) problems.push(`missing seqs: ${missing.join(', ')}`);
  const extra = [...seen.keys()].filter((s) => s < first || s > last || !Number.isInteger(s));
  if (extra.length) problems.push(`seqs outside ${first}..${last}: ${extra.join(', ')}`);
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] >= seqs[i - 1]) { problems.push(`not newest first at row ${i}: ${seqs[i - 1]} then ${seqs[i]}`); break; }
  }
  return problems.length ? `${problems.join('; ')} (feed: ${seqs.join(',')})` : '';
}

// The outbox rows (key and status), as the page shows them.
export function outboxRows(page) {
  return page.$$eval('ul#outbox > li[data-outbox-key]',
    (ls) => ls.map((l) => ({ key: l.dataset.outboxKey, status: l.dataset.status, text: l.textContent.trim() })));
}

// Waits until the outbox shows exactly `n` rows, all with `status`.
export async function waitOutbox(page, n, status, timeout = 10000) {
  try {
    await page.waitForFunction(([n, status]) => {
      const ls = [...document.querySelectorAll('ul#outbox > li[data-outbox-key]')];
      return ls.length === n && ls.every((l) => l.dataset.status === status);
    }, [n, status], { timeout });
  } catch {
    throw new Error(`the outbox never showed ${n} row(s) ${status}: ${JSON.stringify(await outboxRows(page))}`);
  }
}

// Entries in the IndexedDB outbox (db `mgteam`, store `outbox`).
export function idbOutboxCount(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('mgteam');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      try {
        const req = db.transaction('outbox', 'readonly').objectStore('outbox').count();
        req.onsuccess = () => { db.close(); resolve(req.result); };
        req.onerror = () => { db.close(); reject(req.error); };
      } catch (e) {
        db.close();
        reject(e);
      }
    };
  }));
}

// Resolves once a service worker is active for the page's origin. A worker
// activates only after its install step (caching the shell) finished. It may
// be active without controlling this page yet (no clients.claim()); a reload
// is still served by it, which is what the offline test needs.
export async function waitServiceWorker(page, timeout = 10000) {
  await page.waitForFunction(async () => !!(await navigator.serviceWorker?.getRegistration())?.active,
    null, { timeout, polling: 100 })
    .catch(() => { throw new Error('no active service worker for the page (is /sw.js registered?)'); });
}

// Allowed console errors: the browser logging a request that failed because
// the server was down or the browser offline.
export const isNetworkFailure = (m) =>
  /^Failed to load resource: net::ERR_/.test(m.text()) && /\/api\/v1\//.test(m.location()?.url ?? '');

// The headers the contract puts on every page; without the CSP, "no CSP
// violation" on a page would prove nothing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const directives = (v) => (v ?? '').split(';').map((d) => d.trim().replace(/\s+/g, ' ')).filter(Boolean).sort();

export async function checkPageHeaders(response, what) {
  if (!response) throw new Error(`${what}: no response`);
  const h = await response.allHeaders();
  const want = { 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' };
  const wrong = Object.entries(want).filter(([k, v]) => (h[k] ?? '').toLowerCase() !== v.toLowerCase())
    .map(([k, v]) => `${k}: ${h[k]} (want ${v})`);
  if (directives(h['content-security-policy']).join('; ') !== directives(CSP).join('; ')) {
    wrong.push(`content-security-policy: ${h['content-security-policy']} (want ${CSP})`);
  }
  if (!/^text\/html/.test(h['content-type'] ?? '')) wrong.push(`content-type: ${h['content-type']}`);
  if (wrong.length) throw new Error(`${what} (${response.url()}): ${wrong.join('; ')}`);
}
