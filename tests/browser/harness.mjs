// Test harness for the dashboard's browser tests (tests/browser/dashboard_test.mjs).
//
// It starts the real programs and nothing else: `mgteam-server` on an
// ephemeral loopback port with a temporary data directory (its port read from
// --ready-fd 3, so no polling), the real `mgteam` CLI as a separate "machine"
// (own XDG dirs, MGTEAM_TOKEN and MGTEAM_SERVER, like tests/support/machine.cpp),
// and Debian's chromium through playwright-core. Every process and temporary
// directory it makes is registered and removed by cleanup(), which the driver
// runs at the end and on any exit path.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '../js/node_modules/playwright-core/index.mjs';

const children = new Set(); // live ChildProcess objects
const tempDirs = new Set();

export function tempDir(tag) {
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), `mgteam-browser-${tag}-`));
  tempDirs.add(dir);
  return dir;
}

// Kills every child still running (SIGKILL: at this point nobody waits for a
// clean exit) and removes every temporary directory. Synchronous, so it also
// works from process.on('exit').
export function cleanup() {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* already gone */ }
  }
  children.clear();
  if (process.env.MGTEAM_KEEP_TEST_DIRS) return;
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', resolve));
}

// ---------------------------------------------------------------- server

export class Server {
  constructor(opts) {
    this.opts = opts; // {bin, webDir, dataDir, logPath}
    this.port = 0;
    this.proc = null;
  }

  get base() { return `http://127.0.0.1:${this.port}`; }

  // Starts a server with a fresh data dir on an ephemeral port.
  static async start({ bin, webDir }) {
    const dir = tempDir('server');
    const s = new Server({ bin, webDir, dataDir: path.join(dir, 'data'), logPath: path.join(dir, 'server.log') });
    await s.launch('127.0.0.1:0');
    return s;
  }

  // (Re)starts the process; `listen` is 127.0.0.1:0 the first time, the same
  // port afterwards. Resolves once the server wrote its port to fd 3.
  async launch(listen) {
    const args = ['--listen', listen, '--data-dir', this.opts.dataDir, '--open-signup', '--ready-fd', '3',
      '--log-level', 'debug'];
    if (this.opts.webDir) args.push('--web-dir', this.opts.webDir);
    const log = fs.openSync(this.opts.logPath, 'a');
    const env = { ...process.env };
    for (const k of ['MGTEAM_LISTEN', 'MGTEAM_OPEN_SIGNUP', 'MGTEAM_DATA_DIR', 'MGTEAM_PUBLIC_URL']) delete env[k];
    const proc = track(spawn(this.opts.bin, args, { stdio: ['ignore', log, log, 'pipe'], env }));
    fs.closeSync(log);
    this.proc = proc;
    const line = await new Promise((resolve) => {
      let buf = '';
      const done = () => resolve(buf);
      proc.stdio[3].on('data', (d) => { buf += d; if (buf.includes('\n')) done(); });
      proc.stdio[3].on('close', done);
      proc.once('error', done);
    });
    proc.stdio[3].destroy();
    const port = parseInt(line, 10);
    if (!(port > 0)) {
      proc.kill('SIGKILL');
      throw new Error(`mgteam-server did not start (args ${args.join(' ')}):\n${this.log()}`);
    }
    this.port = port;
  }

  async stop() {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
    await exited(p);
    clearTimeout(timer);
  }

  restart() { return this.launch(`127.0.0.1:${this.port}`); }

  log() {
    try { return fs.readFileSync(this.opts.logPath, 'utf8'); } catch { return ''; }
  }

  // One REST call. `token` authenticates with a bearer token, `cookie` with a
  // session cookie; `headers` adds raw headers (Origin, Sec-Fetch-Site).
  // Uses node:http, not fetch, so that Origin and Sec-Fetch-* go out exactly
  // as given.
  api(method, p, { token, cookie, body, headers = {} } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (cookie) h.cookie = cookie;
    let data;
    if (body !== undefined) {
      data = Buffer.from(JSON.stringify(body));
      h['content-type'] = 'application/json';
      h['content-length'] = data.length;
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path: p, headers: h }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try { json = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode, headers: res.headers, body: json, text });
        });
      });
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  // Like api() but throws unless the status is `want`.
  async call(want, method, p, opts) {
    const r = await this.api(method, p, opts);
    if (r.status !== want) throw new Error(`${method} ${p}: expected ${want}, got ${r.status} ${r.text}`);
    return r.body;
  }
}

// ------------------------------------------------------- users and teams

let userCounter = 0;

// Signs a user up through the REST API (bearer token for the test's own
// setup calls; the browser signs in separately).
export async function signUp(server, name) {
  const email = `${name.toLowerCase()}.${process.pid}.${userCounter++}@example.com`;
  const password = `password-${name}-${userCounter}`;
  const r = await server.call(201, 'POST', '/api/v1/auth/signup', { body: { email, password, name } });
  const ws = await server.call(200, 'GET', '/api/v1/workspaces', { token: r.token });
  const personal = ws.workspaces.find((w) => w.type === 'personal');
  return { id: r.user.id, name, email, password, token: r.token, personalWs: personal?.id };
}

// Creates a team owned by `owner`; returns {id, slug, name, ws} (ws: its workspace id).
export async function createTeam(server, owner, name) {
  const team = await server.call(201, 'POST', '/api/v1/teams', { token: owner.token, body: { name } });
  const list = await server.call(200, 'GET', '/api/v1/workspaces', { token: owner.token });
  const ws = list.workspaces.find((w) => w.type === 'team' && (w.id === team.id || w.slug === team.slug));
  if (!ws) throw new Error(`team ${name} has no workspace in ${JSON.stringify(list)}`);
  return { id: team.id, slug: team.slug ?? ws.slug, name, ws: ws.id };
}

export async function invite(server, owner, team, email, role = 'member') {
  return server.call(201, 'POST', `/api/v1/teams/${team.id}/invite`, { token: owner.token, body: { email, role } });
}

export async function addToTeam(server, owner, team, user, role) {
  const inv = await invite(server, owner, team, user.email, role);
  await server.call(200, 'POST', `/api/v1/invitations/${inv.token}/accept`, { token: user.token, body: {} });
}

export async function addMemory(server, user, ws, fields) {
  return server.call(201, 'POST', `/api/v1/workspaces/${ws}/memories`, {
    token: user.token, body: { type: 'solution', ...fields },
  });
}

// Every memory of a workspace (all pages).
export async function listMemories(server, user, ws) {
  const out = [];
  let cursor = null;
  do {
    const q = `limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await server.call(200, 'GET', `/api/v1/workspaces/${ws}/memories?${q}`, { token: user.token });
    out.push(...r.memories);
    cursor = r.next_cursor;
  } while (cursor);
  return out;
}

export async function headSeq(server, user, ws) {
  return (await server.call(200, 'GET', `/api/v1/workspaces/${ws}`, { token: user.token })).head_seq;
}

// ------------------------------------------------------------ CLI machine

// The `mgteam` CLI run as another machine: its own config, data, state and
// runtime dirs, signed in through MGTEAM_TOKEN, the server in MGTEAM_SERVER.
export class Machine {
  constructor(cliBin, server, user) {
    this.cliBin = cliBin;
    this.home = tempDir('machine');
    for (const d of ['config', 'data', 'state', 'run']) fs.mkdirSync(path.join(this.home, d), { mode: 0o700 });
    this.env = { ...process.env, XDG_CONFIG_HOME: path.join(this.home, 'config'),
      XDG_DATA_HOME: path.join(this.home, 'data'), XDG_STATE_HOME: path.join(this.home, 'state'),
      XDG_RUNTIME_DIR: path.join(this.home, 'run'), MGTEAM_TOKEN: user.token, MGTEAM_SERVER: server.base,
      HOME: this.home };
    delete this.env.MGTEAM_WORKSPACE;
  }

  // Runs the CLI; resolves {code, out, err, exitedAt} where exitedAt is
  // Date.now() taken in the process's 'exit' handler.
  run(args, { timeoutMs = 20000 } = {}) {
    return new Promise((resolve, reject) => {
      const child = track(spawn(this.cliBin, args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] }));
      let out = '', err = '', exitedAt = 0, code = null;
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      child.once('error', reject);
      child.once('exit', (c, sig) => { exitedAt = Date.now(); code = c ?? 128; if (sig) err += `\nkilled by ${sig}`; });
      child.once('close', () => { clearTimeout(timer); resolve({ code, out, err, exitedAt }); });
    });
  }
}

// ---------------------------------------------------------------- browser

export async function launchBrowser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
}

// A fresh browser context (its own cookies, storage, service workers).
export async function newContext(browser, opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts });
  context.setDefaultTimeout(10000);
  return context;
}

// Signs the context in without the UI: POST /api/v1/auth/session through the
// context's own request client, so the Set-Cookie lands in its cookie jar.
// The route checks the origin, so this sends the server's own.
export async function signInContext(context, server, user) {
  const r = await context.request.post(`${server.base}/api/v1/auth/session`, {
    data: { email: user.email, password: user.password }, headers: { Origin: server.base },
  });
  if (r.status() !== 200) throw new Error(`session sign-in failed: ${r.status()} ${await r.text()}`);
}

// The context's session cookie as a Cookie header value.
export async function sessionCookie(context, server) {
  const c = (await context.cookies(server.base)).find((k) => k.name === 'mgteam_session');
  if (!c) throw new Error('no mgteam_session cookie in the context');
  return `mgteam_session=${c.value}`;
}

// Watches a page for what must never happen: an uncaught exception, a CSP
// violation, a console error. The browser itself logs failed requests as
// console errors ("Failed to load resource: ..."); `allow(msg)` may accept
// those a scenario causes on purpose (the server down, offline, a forged
// request's 403). Returns the list the scenario asserts empty at its end.
export function watchPage(page, allow = () => false) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content.Security.Policy/i.test(text)) problems.push(`CSP violation on ${page.url()}: ${text}`);
    else if (m.type() === 'error' && !allow(m)) {
      problems.push(`console error on ${page.url()}: ${text} (${m.location()?.url ?? ''})`);
    }
  });
  return problems;
}

// The signed-out check at start-up: GET /api/v1/me answers 401 and the
// browser logs that as a failed resource.
export const isSignedOutProbe = (m) =>
  /status of 401/.test(m.text()) && /\/api\/v1\/me(\?|$)/.test(m.location()?.url ?? '');

// A tiny server on another loopback port: a different origin (same site,
// since sites ignore ports, so SameSite=Strict cookies still go along; only
// the server's origin check can refuse). Serves `pages` ({path: html}).
export async function otherOriginServer(pages) {
  const srv = http.createServer((req, res) => {
    const body = pages[req.url.split('?')[0]];
    if (body === undefined) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(body);
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => srv.close(r)) };
}

// A TCP proxy in front of a server that can make its open streams die
// silently: freezeStreams() stops forwarding on every connection that asked
// for /api/v1/sync/stream, in both directions, without closing it (what a
// sleeping laptop or a NAT that forgot the connection looks like to a
// browser). Other connections, and new ones, keep working.
export async function silentProxy(target) {
  const conns = new Set();
  const srv = net.createServer((client) => {
    const upstream = net.connect(target.port, '127.0.0.1');
    const c = { client, upstream, stream: false, frozen: false };
    conns.add(c);
    client.on('data', (d) => {
      if (!c.stream && d.toString('latin1', 0, 200).includes('/api/v1/sync/stream')) c.stream = true;
      if (!c.frozen) upstream.write(d);
    });
    upstream.on('data', (d) => { if (!c.frozen) client.write(d); });
    const end = () => { conns.delete(c); client.destroy(); upstream.destroy(); };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${srv.address().port}`,
    freezeStreams() {
      let n = 0;
      for (const c of conns) if (c.stream && !c.frozen) { c.frozen = true; n++; }
      return n;
    },
    close() {
      for (const c of conns) { c.client.destroy(); c.upstream.destroy(); }
      return new Promise((r) => srv.close(r));
    },
  };
}
