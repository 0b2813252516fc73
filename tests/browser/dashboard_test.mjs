#!/usr/bin/env node
// Browser tests of mgteam's web dashboard (issue 14), in a real browser
// (Debian's chromium driven by playwright-core) against the real
// mgteam-server on a loopback port, with the real mgteam CLI as another
// machine. They check what a team relies on when it keeps the dashboard
// open: changes arrive live and survive a server restart without gaps or
// repeats, offline edits are queued and sent exactly once, roles are
// enforced in the page and (more importantly) on the server, a session
// cookie cannot be used from another origin, an invitation link gets a new
// person into the team, and the pages are accessible. On every page a
// console error, an uncaught exception or a CSP violation fails the scenario.
//
//   node tests/browser/dashboard_test.mjs --server PATH --cli PATH --out DIR
//        [--web-dir DIR] [--only NAME[,NAME...]]
//
// --web-dir serves the UI from a source tree instead of the copy embedded in
// the server (development). Screenshots go to DIR (and, when a scenario
// fails, a screenshot of each of its pages and its server's log).
// CHROMIUM overrides /usr/bin/chromium; MGTEAM_KEEP_TEST_DIRS=1 keeps temp dirs.
// Each scenario gets its own server, users and browser contexts.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cleanup, launchBrowser, newContext, Server, watchPage } from './harness.mjs';
import { cliToFeed, deadStream, restartResume } from './live_scenarios.mjs';
import { offlineOutbox } from './offline_scenario.mjs';
import { joinNewUser, rolesAndCsrf } from './access_scenarios.mjs';
import { accessibility, screenshots } from './pages_scenarios.mjs';

const SCENARIOS = [
  ['cli-to-feed', cliToFeed],
  ['restart-resume', restartResume],
  ['dead-stream', deadStream, 100000],
  ['offline-outbox', offlineOutbox],
  ['roles-and-csrf', rolesAndCsrf],
  ['join-new-user', joinNewUser],
  ['accessibility', accessibility],
  ['screenshots', screenshots],
];
const SCENARIO_TIMEOUT_MS = 60000;

// What a scenario gets: its own servers, browser contexts and watched pages,
// all closed at its end whatever happened.
class Scenario {
  constructor(env, name) {
    Object.assign(this, { env, name, servers: [], contexts: [], watched: [], deferred: [], lastStep: 'setup',
      started: Date.now() });
  }

  async server() {
    const s = await Server.start({ bin: this.env.server, webDir: this.env.webDir });
    this.servers.push(s);
    return s;
  }

  async context(opts) {
    const c = await newContext(this.env.browser, opts);
    this.contexts.push(c);
    return c;
  }

  // A page whose console errors, exceptions and CSP violations fail the
  // scenario; `allow(consoleMessage)` accepts errors the scenario causes.
  async page(context, allow) {
    const page = await context.newPage();
    this.watched.push({ page, problems: watchPage(page, allow) });
    return page;
  }

  step(what) {
    this.lastStep = what;
    if (process.env.MGTEAM_TEST_VERBOSE) this.note(`${Date.now() - this.started} ms: ${what}`);
  }
  note(text) { console.log(`    # ${text.replace(/\n/g, '\n    # ')}`); }
  defer(fn) { this.deferred.push(fn); }
  problems() { return this.watched.flatMap((w) => w.problems); }

  async teardown(failed) {
    if (failed) {
      let i = 0;
      for (const { page } of this.watched) {
        const file = path.join(this.env.out, `failed-${this.name}-${i++}.png`);
        if (!page.isClosed()) await page.screenshot({ path: file, fullPage: true, timeout: 5000 }).catch(() => {});
      }
      this.servers.forEach((s, j) => fs.writeFileSync(path.join(this.env.out, `failed-${this.name}-server${j}.log`), s.log()));
    }
    for (const fn of this.deferred.reverse()) await Promise.resolve().then(fn).catch(() => {});
    for (const c of this.contexts) await c.close().catch(() => {});
    for (const s of this.servers) await s.stop().catch(() => {});
  }
}

async function runOne(env, name, fn, timeoutMs = SCENARIO_TIMEOUT_MS) {
  const t = new Scenario(env, name);
  const started = Date.now();
  let error = null;
  let timer;
  try {
    await Promise.race([fn(t), new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    })]);
    const problems = t.problems();
    if (problems.length) error = new Error(`the pages logged errors:\n${problems.join('\n')}`);
  } catch (e) {
    error = e;
  } finally {
    clearTimeout(timer);
  }
  await t.teardown(error !== null);
  const ms = Date.now() - started;
  if (!error) {
    console.log(`ok - ${name} (${ms} ms)`);
    return true;
  }
  console.log(`not ok - ${name} (${ms} ms), at step "${t.lastStep}":`);
  console.log(`    ${String(error.stack ?? error).replace(/\n/g, '\n    ')}`);
  const extra = t.problems().filter((p) => !String(error.message).includes(p));
  if (extra.length) console.log(`    and the pages logged:\n      ${extra.join('\n      ')}`);
  return false;
}

async function main() {
  const { values } = parseArgs({ options: { server: { type: 'string' }, cli: { type: 'string' },
    out: { type: 'string' }, 'web-dir': { type: 'string' }, only: { type: 'string' } } });
  if (!values.server || !values.cli || !values.out) {
    console.error('usage: dashboard_test.mjs --server PATH --cli PATH --out DIR [--web-dir DIR] [--only NAME[,NAME]]');
    return 2;
  }
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = (only ?? []).filter((n) => !SCENARIOS.some(([s]) => s === n));
  if (unknown.length) {
    console.error(`unknown scenario(s) ${unknown.join(', ')}; there are: ${SCENARIOS.map(([s]) => s).join(', ')}`);
    return 2;
  }
  fs.mkdirSync(values.out, { recursive: true });
  const env = { server: path.resolve(values.server), cli: path.resolve(values.cli), out: path.resolve(values.out),
    webDir: values['web-dir'] && path.resolve(values['web-dir']) };
  const started = Date.now();
  env.browser = await launchBrowser();
  let failed = 0, ran = 0;
  try {
    for (const [name, fn, timeoutMs] of SCENARIOS) {
      if (only && !only.includes(name)) continue;
      ran++;
      if (!(await runOne(env, name, fn, timeoutMs))) failed++;
    }
  } finally {
    await env.browser.close().catch(() => {});
  }
  console.log(`${ran - failed} of ${ran} scenarios passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return failed ? 1 : 0;
}

process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    fs.writeSync(2, `${sig}: killing the servers and removing temp dirs\n`);
    cleanup();
    process.exit(130);
  });
}
main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
