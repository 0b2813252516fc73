// The live connection to one workspace's change stream and the #connection
// indicator. Native EventSource reconnects on its own but says nothing about
// why it failed, so on every error we close it and decide ourselves: offline
// (the browser says so), signed out (/me answers 401: stop for good), or
// reconnecting with our own backoff from the last seq we saw, so the feed
// gets neither a gap nor a duplicate.
import { api } from './api.js';

// Quiet for this long while "live", the stream is checked; a change the
// server has and the stream has not delivered within the grace is a dead
// stream (docs/dashboard.md, "The connection indicator").
const WATCH_MS = 5000, QUIET_MS = 30000, GRACE_MS = 3000;

const LABELS = { live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline', 'signed-out': 'Signed out' };

class Stream extends EventTarget {
  constructor() {
    super();
    this.ws = null;
    this.es = null;
    this.lastSeq = null;
    this.attempt = 0;
    this.timer = null;
    this.state = null;  // the page's markup holds the first state until we know
    this.heard = 0;     // when the open stream last delivered anything (ms)
    window.addEventListener('online', () => this.#online());
    window.addEventListener('offline', () => this.#offline());
    setInterval(() => this.#watch(), WATCH_MS);
  }

  // A connection can die without an error (a laptop that slept, a NAT that
  // forgot it), and EventSource hides the server's heartbeats, so "Live"
  // could stay up over a dead stream. After a quiet spell, one small request
  // asks the log's head: if the server has changes this stream never
  // delivered, the stream is dead: reconnect (resuming from the last seq).
  async #watch() {
    if (this.state !== 'live' || !this.es || Date.now() - this.heard < QUIET_MS) return;
    const ws = this.ws, es = this.es, seen = this.lastSeq;
    this.heard = Date.now();
    let head;
    try {
      const r = await api(`/workspaces/${encodeURIComponent(ws)}/events?since=${seen ?? 0}&limit=1`,
        { quiet401: true, timeout: 10000 });
      head = r.head_seq;
    } catch {
      if (this.es === es) this.#failed();
      return;
    }
    if (!Number.isInteger(head) || seen === null || head <= seen) return;
    // Give a live stream a moment to deliver what the probe saw.
    setTimeout(() => {
      if (this.es === es && this.lastSeq !== null && this.lastSeq < head) this.#failed(true);
    }, GRACE_MS);
  }

  // Follows workspace `ws` from now on (its stream starts at the head; the
  // feed loads the past from the API and de-duplicates by seq).
  start(ws) {
    if (this.ws === ws && (this.es || this.timer)) return;
    this.#close();
    this.ws = ws;
    this.lastSeq = null;
    this.attempt = 0;
    this.#open();
  }

  // Stops for good: signed out, or left the workspace.
  stop(state) {
    this.#close();
    this.ws = null;
    if (state) this.setState(state);
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    const el = document.getElementById('connection');
    if (el) {
      el.dataset.state = s;
      el.textContent = LABELS[s];
    }
    this.dispatchEvent(new CustomEvent('state', { detail: s }));
  }

  #close() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.es) {
      this.es.onopen = this.es.onmessage = this.es.onerror = null;
      this.es.close();
      this.es = null;
    }
  }

  #open() {
    this.timer = null;
    if (!this.ws) return;
    if (!navigator.onLine) return this.setState('offline');
    let url = '/api/v1/sync/stream?workspace_id=' + encodeURIComponent(this.ws);
    if (this.lastSeq !== null) url += '&since=' + this.lastSeq;
    const es = new EventSource(url);
    this.es = es;
    es.onopen = () => {
      this.heard = Date.now();
      this.attempt = 0;
      this.setState('live');
      this.dispatchEvent(new Event('open'));
    };
    es.onmessage = (m) => this.#frame(m);
    es.onerror = () => this.#failed();
  }

  #frame(m) {
    this.heard = Date.now();
    let ev;
    try { ev = JSON.parse(m.data); } catch { return; }
    if (ev.type === 'connected') {
      if (this.lastSeq === null && Number.isInteger(ev.head_seq)) this.lastSeq = ev.head_seq;
      this.dispatchEvent(new CustomEvent('connected', { detail: ev }));
      return;
    }
    if (ev.type === 'reset') {
      // The log was rebuilt (or our cursor is beyond it): the server closes
      // this stream; views reload from the API and we follow from its head.
      this.lastSeq = Number.isInteger(ev.head_seq) ? ev.head_seq : null;
      this.dispatchEvent(new CustomEvent('reset', { detail: ev }));
      return this.#failed(true);
    }
    if (ev.type === 'closed') {
      this.dispatchEvent(new CustomEvent('closed', { detail: ev }));
      if (ev.reason === 'membership_revoked' || ev.reason === 'workspace_deleted') {
        this.#close();
        this.dispatchEvent(new CustomEvent('gone', { detail: ev }));
        return;
      }
      return this.#failed(ev.reason === 'slow_consumer');
    }
    if (ev.type === 'presence_changed') {
      this.dispatchEvent(new CustomEvent('presence', { detail: ev }));
      return;
    }
    if (!Number.isInteger(ev.seq)) return;
    if (this.lastSeq !== null && ev.seq <= this.lastSeq) return;
    this.lastSeq = ev.seq;
    this.dispatchEvent(new CustomEvent('event', { detail: ev }));
  }

  // The stream ended or could not open. `quick`: reconnect without waiting.
  async #failed(quick = false) {
    const ws = this.ws;
    this.#close();
    if (!ws) return;
    if (!navigator.onLine) return this.setState('offline');
    this.setState('reconnecting');
    let status = 0;
    try {
      await api('/me', { quiet401: true, timeout: 10000 });
      status = 200;
      await api('/workspaces/' + encodeURIComponent(ws), { quiet401: true, timeout: 10000 });
    } catch (e) {
      status = e.status;
    }
    if (this.ws !== ws || this.es || this.timer) return;  // moved on meanwhile
    if (status === 401) {
      this.stop('signed-out');
      window.dispatchEvent(new CustomEvent('mgteam:unauthorized', { detail: { message: 'Your session has ended.' } }));
      return;
    }
    if (status === 404 || status === 403) {
      this.#close();
      this.dispatchEvent(new CustomEvent('gone', { detail: { reason: 'membership_revoked' } }));
      return;
    }
    if (!navigator.onLine) return this.setState('offline');
    const base = quick && this.attempt === 0 ? 0 : Math.min(15000, 500 * 2 ** this.attempt);
    this.attempt++;
    const delay = base * (0.75 + Math.random() * 0.5);
    this.timer = setTimeout(() => this.#open(), delay);
  }

  #online() {
    if (!this.ws || this.state === 'signed-out') return;
    this.#close();
    this.attempt = 0;
    this.setState('reconnecting');
    this.#open();
  }

  #offline() {
    if (this.state === 'signed-out') return;
    this.#close();
    this.setState('offline');
  }
}

export const stream = new Stream();
