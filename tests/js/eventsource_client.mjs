// A real third-party SSE client for mgteam's tests: the npm `eventsource`
// package (a WHATWG EventSource implementation). It prints one JSON line per
// message and exits once it has seen seq >= UNTIL_SEQ. On a dropped
// connection EventSource reconnects by itself, sending Last-Event-ID.
import { EventSource } from 'eventsource';

const { STREAM_URL, TOKEN, UNTIL_SEQ, TIMEOUT_MS } = process.env;
const until = Number(UNTIL_SEQ);
const es = new EventSource(STREAM_URL, {
  fetch: (input, init) =>
    fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${TOKEN}` } }),
});
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
es.onopen = () => say({ open: true });
es.onerror = (e) => say({ error: String(e?.message ?? e?.type ?? 'error') });
es.onmessage = (m) => {
  const data = JSON.parse(m.data);
  say({ lastEventId: m.lastEventId, data });
  if (typeof data.seq === 'number' && data.seq >= until) {
    es.close();
    process.exit(0);
  }
};
setTimeout(() => {
  say({ timeout: true });
  process.exit(2);
}, Number(TIMEOUT_MS ?? 30000));
