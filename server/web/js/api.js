// The fetch wrapper every view uses. The session is an HttpOnly cookie, so
// requests only need same-origin credentials; errors come back as one shape,
// {status, code, message, field}, so forms can put the API's own message next
// to the field it names. A 401 anywhere means the session is gone: the app
// hears about it through the 'mgteam:unauthorized' event.

export class ApiError extends Error {
  constructor({ status, code, message, field, detail }) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.detail = detail || {};
  }
  // The request may not have reached the server (or its answer was lost):
  // worth sending again later with the same Idempotency-Key.
  get unreachable() {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

// `timeout` (ms): give up on a server that accepted the connection but does
// not answer, so a stuck request cannot hold up the stream or the outbox.
// Answers to reads, by path: with `stale`, a read the server cannot answer
// (offline, down) gets the last answer it gave instead, so pages seen in
// this session still open and their memories can still be edited offline.
// Only views ask for it; the stream's checks must see the failure.
const lastGood = new Map();
const LAST_GOOD_MAX = 300;

export async function api(path, { method = 'GET', body, key, quiet401 = false, timeout, stale = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key) headers['Idempotency-Key'] = key;
  let res;
  try {
    res = await fetch('/api/v1' + path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      signal: timeout ? AbortSignal.timeout(timeout) : undefined,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    if (stale && method === 'GET' && lastGood.has(path)) return lastGood.get(path);
    throw new ApiError({ status: 0, code: 'network', message: 'The server cannot be reached.' });
  }
  let data = null;
  try { data = await res.json(); } catch { /* an empty or non-JSON answer */ }
  if (res.ok) {
    if (stale && method === 'GET') {
      lastGood.delete(path);
      lastGood.set(path, data);
      if (lastGood.size > LAST_GOOD_MAX) lastGood.delete(lastGood.keys().next().value);
    }
    return data;
  }
  const e = (data && data.error) || {};
  const err = new ApiError({
    status: res.status,
    code: e.code || 'http_' + res.status,
    message: e.message || `The server answered ${res.status} ${res.statusText}.`,
    field: e.field,
    detail: e,
  });
  if (res.status === 401 && !quiet401) window.dispatchEvent(new CustomEvent('mgteam:unauthorized', { detail: err }));
  throw err;
}

export const enc = encodeURIComponent;

// Memory titles by id, for sentences and relationship lists that only hold
// ids. Deleted memories still have a title worth showing.
const titles = new Map();
export function rememberTitle(id, title) { titles.set(id, Promise.resolve(title)); }
export function memoryTitle(ws, id) {
  if (!titles.has(id)) {
    const p = api(`/workspaces/${enc(ws)}/memories/${enc(id)}?include_deleted=true`)
      .then((m) => m.title, () => { titles.delete(id); return 'a memory'; });
    titles.set(id, p);
  }
  return titles.get(id);
}

// Signing out forgets every kept answer: the next account must not see them.
export function forgetAnswers() { lastGood.clear(); titles.clear(); }
