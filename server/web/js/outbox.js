// Memory creates and edits go through a queue in IndexedDB (db 'mgteam',
// store 'outbox') so that a write made offline, or while the server is
// unreachable, survives a reload and is sent exactly once, in order, later.
// Each item carries its Idempotency-Key from the start: a resend after a lost
// answer gets the stored answer back instead of writing twice, and a create
// carries a client-chosen id, so a late resend that finds it already there
// (409 already_exists) knows its earlier send landed. One flusher at a time
// sends the head item: success removes it, an unreachable server stops the
// run (the item waits), any other refusal marks it refused with the server's
// message and the run goes on with the next.
import { api } from './api.js';

const DB = 'mgteam', STORE = 'outbox';
let dbPromise = null;

function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'n', autoIncrement: true });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

async function tx(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(STORE, mode);
    const s = t.objectStore(STORE);
    let out;
    Promise.resolve(fn(s, (v) => { out = v; })).catch(reject);
    t.oncomplete = () => resolve(out);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

export async function items() {
  return tx('readonly', (s, done) => { const r = s.getAll(); r.onsuccess = () => done(r.result); });
}

async function put(item) {
  return tx('readwrite', (s, done) => { const r = s.put(item); r.onsuccess = () => done(r.result); });
}

async function remove(n) {
  return tx('readwrite', (s) => { s.delete(n); });
}

// Items belong to the account that made them: another account signing in
// on this browser must neither see nor send them.
let user = null;
export function setUser(id) {
  user = id;
  changed();
}
export async function mine() {
  return user ? (await items()).filter((i) => i.user === user) : [];
}

export const events = new EventTarget();
const changed = () => events.dispatchEvent(new Event('change'));

// Queues a write. item: {op: 'create'|'update', ws, memory_id, body, title}.
// Resolves once this run of the flusher has dealt with it:
// {state: 'sent', result} | {state: 'refused', error} | {state: 'pending'}.
export async function submit(item) {
  const full = { ...item, user, key: crypto.randomUUID(), status: 'pending', queued_at: new Date().toISOString() };
  full.n = await put(full);
  waiting.add(full.key);
  changed();
  await flush();
  // A run that had already looked at the queue may have ended just before
  // this item arrived; one more run picks it up.
  if (!outcomes.has(full.key) && navigator.onLine) await flush();
  waiting.delete(full.key);
  const outcome = outcomes.get(full.key) || { state: 'pending' };
  outcomes.delete(full.key);
  return outcome;
}

export async function dismiss(n) {
  await remove(n);
  changed();
}

const outcomes = new Map();
const waiting = new Set();  // keys whose submit() awaits an outcome
let running = null;

// Sends what is queued. Calls while a run is going join it (and it looks at
// the queue again before it ends, so nothing queued meanwhile is left behind).
export function flush() {
  if (!running) {
    // Other tabs of the same browser share this queue: the lock makes their
    // flushers take turns, so an item is never in flight twice at once.
    const go = navigator.locks ? navigator.locks.request('mgteam-outbox', run) : run();
    running = go.finally(() => { running = null; });
  }
  return running;
}

async function run() {
  for (;;) {
    if (!navigator.onLine) return;
    const queue = (await mine()).filter((i) => i.status !== 'refused').sort((a, b) => a.n - b.n);
    const item = queue[0];
    if (!item) return;
    item.status = 'sending';
    await put(item);
    changed();
    try {
      const path = `/workspaces/${encodeURIComponent(item.ws)}/memories`;
      const result = item.op === 'create'
        ? await api(path, { method: 'POST', body: item.body, key: item.key, timeout: 30000 })
        : await api(`${path}/${encodeURIComponent(item.memory_id)}`, { method: 'PATCH', body: item.body, key: item.key, timeout: 30000 });
      await done(item, result);
    } catch (e) {
      if (item.op === 'create' && e.code === 'already_exists') { await done(item, null); continue; }
      // Worth another try later: no answer, signed out, throttled, timed out,
      // or a server (or the proxy before it) briefly unavailable. A 500 is a
      // bug that a retry would only repeat: refused, with its request id.
      if (e.unreachable || [401, 408, 429, 502, 503, 504].includes(e.status)) {
        item.status = 'pending';
        await put(item);
        changed();
        return;  // try again on the next trigger (online, stream open, sign-in)
      }
      item.status = 'refused';
      item.error = { status: e.status, code: e.code, message: e.message, field: e.field };
      await put(item);
      if (waiting.has(item.key)) outcomes.set(item.key, { state: 'refused', error: e, item });
      changed();
    }
  }
}

async function done(item, result) {
  await remove(item.n);
  if (waiting.has(item.key)) outcomes.set(item.key, { state: 'sent', result, item });
  changed();
  events.dispatchEvent(new CustomEvent('sent', { detail: { item, result } }));
}

window.addEventListener('online', () => flush());
