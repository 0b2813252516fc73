// The service worker keeps a copy of the app shell (these static files) so
// that a reload while offline still shows the app and its queue of pending
// writes. Network first, so a deployed update is seen at once; the cache is
// only the fallback. /api/ is never cached or even intercepted: data must
// come from the server or not at all (the outbox handles writes).
const CACHE = 'mgteam-shell-v1';
const SHELL = ['/', '/style.css', '/app.js', '/favicon.svg', '/js/api.js', '/js/dom.js', '/js/state.js',
  '/js/stream.js', '/js/outbox.js', '/js/feed.js', '/js/memories.js', '/js/members.js', '/js/join.js'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  // Every page (/, /join/<token>) is index.html. Other addresses a person
  // may open (/healthz, /metrics) are not the app: never stored as it.
  const page = req.mode === 'navigate' && (url.pathname === '/' || url.pathname.startsWith('/join/'));
  const key = page ? '/' : url.pathname;
  if (!page && !SHELL.includes(key)) return;
  event.respondWith((async () => {
    try {
      const res = await fetch(req);
      if (res.ok) {
        const copy = res.clone();
        caches.open(CACHE).then((c) => c.put(key, copy));
      }
      return res;
    } catch (err) {
      const hit = await caches.match(key);
      if (hit) return hit;
      throw err;
    }
  })());
});
