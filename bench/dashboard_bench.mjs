#!/usr/bin/env node
// Dashboard figures for docs/performance.md (a benchmark, not a test): what
// the first visit transfers, what a reload transfers once the browser holds
// the files (ETag revalidation), and how long a write takes to appear as a
// row in an open feed (REST answer received -> row in the page's DOM), over
// real Chromium against a real server on loopback. Prints one JSON summary.
//
//   node bench/dashboard_bench.mjs --server build/server/mgteam-server [--writes 200] [--interval-ms 20]
//        [--web-dir server/web]
import { parseArgs } from 'node:util';
import { addToTeam, cleanup, createTeam, launchBrowser, newContext, Server, signInContext, signUp } from '../tests/browser/harness.mjs';

const { values: opt } = parseArgs({
  options: {
    server: { type: 'string' }, 'web-dir': { type: 'string' },
    writes: { type: 'string', default: '200' }, 'interval-ms': { type: 'string', default: '20' },
  },
});
if (!opt.server) {
  console.error('usage: dashboard_bench.mjs --server PATH [--writes N] [--interval-ms MS] [--web-dir DIR]');
  process.exit(2);
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (x) => Math.round(x * 10) / 10;

// Bytes a page load moved over the wire (CDP's encodedDataLength: headers
// and bodies as received), the number of responses and how many were 304s.
async function transferred(context, page, load) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  let bytes = 0, requests = 0, notModified = 0;
  const status = new Map();
  cdp.on('Network.responseReceived', (e) => status.set(e.requestId, e.response.status));
  cdp.on('Network.loadingFinished', (e) => {
    requests++;
    bytes += e.encodedDataLength;
    if (status.get(e.requestId) === 304) notModified++;
  });
  await load();
  await page.waitForLoadState('networkidle');
  await cdp.detach();
  return { bytes, requests, not_modified: notModified };
}

let browser, server;
try {
  server = await Server.start({ bin: opt.server, webDir: opt['web-dir'] });
  const alice = await signUp(server, 'Alice');
  const bob = await signUp(server, 'Bob');
  const team = await createTeam(server, alice, 'Bench Team');
  await addToTeam(server, alice, team, bob, 'member');
  browser = await launchBrowser();
  // The service worker is blocked so that every request shows on the page's
  // network: this measures what HTTP itself transfers (the worker only
  // matters offline).
  const context = await newContext(browser, { serviceWorkers: 'block' });
  await signInContext(context, server, alice);
  const page = await context.newPage();
  const feedUrl = `${server.base}/#/w/${team.ws}/feed`;

  const cold = await transferred(context, page, () => page.goto(feedUrl));
  await page.waitForSelector('#connection[data-state="live"]');
  const warm = await transferred(context, page, () => page.reload());
  await page.waitForSelector('#connection[data-state="live"]');

  // Arrival times of feed rows, taken in the page as they are inserted.
  await page.evaluate(() => {
    window.__arrivals = {};
    new MutationObserver((records) => {
      const now = Date.now();
      for (const r of records)
        for (const n of r.addedNodes)
          if (n.dataset && n.dataset.seq && !(n.dataset.seq in window.__arrivals)) window.__arrivals[n.dataset.seq] = now;
    }).observe(document.querySelector('ol#feed'), { childList: true });
  });

  const writes = Number(opt.writes), interval = Number(opt['interval-ms']);
  const acked = [];
  for (let i = 0; i < writes; i++) {
    const started = Date.now();
    const r = await fetch(`${server.base}/api/v1/workspaces/${team.ws}/memories`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${bob.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: `bench memory ${i}`, type: 'general' }),
    });
    if (r.status !== 201) throw new Error(`write ${i}: ${r.status} ${await r.text()}`);
    const head = Number((await fetch(`${server.base}/api/v1/workspaces/${team.ws}/events?since=0&limit=1`, {
      headers: { Authorization: `Bearer ${bob.token}` } }).then((x) => x.json())).head_seq);
    acked.push({ started, head });
    const wait = interval - (Date.now() - started);
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  }
  const last = acked[acked.length - 1].head;
  await page.waitForSelector(`ol#feed > li[data-seq="${last}"]`, { timeout: 30000 });
  const arrivals = await page.evaluate(() => window.__arrivals);
  const latencies = [];
  let missing = 0;
  // From the writer starting its request to the row in the reader's page.
  for (const { started, head } of acked) {
    if (!(head in arrivals)) { missing++; continue; }
    latencies.push(arrivals[head] - started);
  }
  latencies.sort((a, b) => a - b);
  console.log(JSON.stringify({
    bench: 'dashboard',
    first_load: cold,
    reload: warm,
    feed: {
      writes, interval_ms: interval, delivered: latencies.length, missing,
      p50_ms: round(percentile(latencies, 50)), p95_ms: round(percentile(latencies, 95)),
      p99_ms: round(percentile(latencies, 99)), max_ms: round(latencies[latencies.length - 1]),
    },
  }));
} finally {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  cleanup();
}
