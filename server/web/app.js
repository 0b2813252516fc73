// The dashboard's shell: signs in, lists workspaces, routes hash URLs
// (#/w/<ws>/feed, /memories, /memories/<id>, /members) to the views, and keeps
// the header, the connection indicator and the outbox panel up to date. The
// invitation page /join/<token> is the one real path besides /.
import { api, forgetAnswers } from './js/api.js';
import { h, clear, tickClock, toast } from './js/dom.js';
import { state, wsPath } from './js/state.js';
import { stream } from './js/stream.js';
import * as outbox from './js/outbox.js';
import { feedView } from './js/feed.js';
import { memoriesView, memoryView, memoryFormView } from './js/memories.js';
import { membersView } from './js/members.js';
import { joinView } from './js/join.js';

const $ = (id) => document.getElementById(id);
const main = $('main');
let view = null;         // AbortController of the view on screen
let signedOutShown = false;

// Names and workspaces from the last visit, so a reload while offline still
// shows the app (and its queue of pending writes).
const SHELL_KEY = 'mgteam.shell';
const saveShell = () => localStorage.setItem(SHELL_KEY, JSON.stringify({ me: state.me, workspaces: state.workspaces }));
function loadShell() {
  try { return JSON.parse(localStorage.getItem(SHELL_KEY)); } catch { return null; }
}

function newView() {
  if (view) view.abort();
  delete main.dataset.stale;
  view = new AbortController();
  return view.signal;
}

async function enter() {
  signedOutShown = false;
  try {
    state.me = (await api('/me', { quiet401: true })).user;
    state.workspaces = (await api('/workspaces')).workspaces || [];
    saveShell();
  } catch (e) {
    if (e.status === 401) return showSignin();
    const shell = loadShell();
    if (!shell || !shell.me) return showUnreachable();
    state.me = shell.me;
    state.workspaces = shell.workspaces || [];
    stream.setState(navigator.onLine ? 'reconnecting' : 'offline');
  }
  outbox.setUser(state.me.id);
  $('whoami').textContent = state.me.name || state.me.email;
  $('account').hidden = false;
  renderWorkspaces();
  route();
  outbox.flush();
}

function showUnreachable() {
  stream.setState(navigator.onLine ? 'reconnecting' : 'offline');
  newView();
  clear(main, h('h1', { tabindex: '-1' }, 'mgteam'),
    h('p', {}, 'The server cannot be reached right now.'),
    h('button', { type: 'button', onclick: () => enter() }, 'Try again'));
  window.addEventListener('online', () => enter(), { once: true });
}

function renderWorkspaces() {
  const list = $('workspaces').querySelector('ul');
  const sorted = [...state.workspaces].sort((a, b) =>
    (a.type === 'personal' ? 0 : 1) - (b.type === 'personal' ? 0 : 1) || a.name.localeCompare(b.name));
  clear(list, sorted.map((w) => h('li', {},
    h('a', { href: wsPath('feed', w.id), dataset: { workspaceId: w.id } }, w.name),
    h('span', { class: 'badge' }, w.type === 'personal' ? 'personal' : w.role))));
  $('workspaces').hidden = false;
  $('new-team').hidden = false;
}

function parseHash() {
  const m = location.hash.match(/^#\/w\/([^/]+)(?:\/(.*))?$/);
  return m ? { ws: decodeURIComponent(m[1]), parts: (m[2] || 'feed').split('/').filter(Boolean) } : null;
}

async function route(refreshed = false) {
  if (!state.me) return;
  const r = parseHash();
  if (!r) {
    const first = state.workspaces.find((w) => w.type === 'personal') || state.workspaces[0];
    if (first) location.replace(wsPath('feed', first.id));
    return;
  }
  const ws = state.workspaces.find((w) => w.id === r.ws);
  if (!ws && !refreshed) {
    // Perhaps joined since the list was loaded (in another tab, say).
    try { state.workspaces = (await api('/workspaces')).workspaces || []; saveShell(); renderWorkspaces(); } catch { /* keep it */ }
    return route(true);
  }
  const signal = newView();
  if (!ws) {
    $('tabs').hidden = true;
    clear(main, h('h1', { tabindex: '-1' }, 'Workspace not found'),
      h('p', {}, 'It does not exist or you are not a member. Pick one of your workspaces.'));
    return focusHeading();
  }
  if (!state.ws || state.ws.id !== ws.id) stream.start(ws.id);
  state.ws = ws;
  const page = r.parts[0];
  for (const a of document.querySelectorAll('#workspaces a')) {
    if (a.dataset.workspaceId === ws.id) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  for (const a of document.querySelectorAll('#tabs a')) {
    a.href = wsPath(a.dataset.nav, ws.id);
    if (a.dataset.nav === page) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  $('tabs').hidden = false;
  $('ws-name').textContent = ws.name;
  document.title = ws.name + ' · mgteam';
  const ctx = { ws, signal, main };
  if (page === 'memories' && r.parts[1] === 'new') memoryFormView(ctx, null);
  else if (page === 'memories' && r.parts[1] && r.parts[2] === 'edit') memoryFormView(ctx, r.parts[1]);
  else if (page === 'memories' && r.parts[1]) memoryView(ctx, r.parts[1]);
  else if (page === 'memories') memoriesView(ctx);
  else if (page === 'members') membersView(ctx);
  else feedView(ctx);
  focusHeading();
}

let firstRoute = true;
function focusHeading() {
  // Moving focus to the new page's heading tells screen readers the page
  // changed; not on first load, where the browser's own start is better.
  if (firstRoute) { firstRoute = false; return; }
  const h1 = main.querySelector('h1');
  if (h1) h1.focus({ preventScroll: false });
}

function showSignin(message) {
  forgetAnswers();
  state.me = null;
  outbox.setUser(null);
  state.ws = null;
  stream.stop('signed-out');
  $('account').hidden = true;
  $('workspaces').hidden = true;
  $('new-team').hidden = true;
  $('tabs').hidden = true;
  newView();
  const alert = h('p', { role: 'alert', class: 'alert' }, message || '');
  const form = h('form', { id: 'signin', class: 'card narrow', novalidate: true },
    h('h1', { tabindex: '-1' }, 'Sign in'),
    h('div', { class: 'field' }, h('label', { for: 'signin-email' }, 'Email'),
      h('input', { id: 'signin-email', name: 'email', type: 'email', autocomplete: 'username', required: true })),
    h('div', { class: 'field' }, h('label', { for: 'signin-password' }, 'Password'),
      h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    alert,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    alert.textContent = '';
    const btn = form.querySelector('button');
    btn.disabled = true;
    try {
      await api('/auth/session', { method: 'POST', quiet401: true,
        body: { email: form.elements.email.value.trim(), password: form.elements.password.value } });
      await enter();
    } catch (e) {
      alert.textContent = e.code === 'invalid_credentials' ? 'Wrong email or password.' : e.message;
    } finally {
      btn.disabled = false;
    }
  });
  clear(main, form);
  document.title = 'Sign in · mgteam';
}

async function signOut(everywhere) {
  try {
    const r = await api(everywhere ? '/auth/sessions' : '/auth/session', { method: 'DELETE', quiet401: true });
    localStorage.removeItem(SHELL_KEY);
    showSignin(everywhere ? `Signed out of ${r.revoked} session${r.revoked === 1 ? '' : 's'} everywhere.` : 'You are signed out.');
  } catch (e) {
    if (e.status === 401) { localStorage.removeItem(SHELL_KEY); return showSignin('You are signed out.'); }
    toast('Could not sign out: ' + e.message, 'error');
  }
}

async function newTeam() {
  const signal = newView();
  $('tabs').hidden = true;
  const alert = h('p', { role: 'alert', class: 'alert' });
  const form = h('form', { id: 'new-team-form', class: 'card narrow', novalidate: true },
    h('h1', { tabindex: '-1' }, 'New team'),
    h('div', { class: 'field' }, h('label', { for: 'team-name' }, 'Team name'),
      h('input', { id: 'team-name', name: 'name', required: true, maxlength: '100' })),
    alert, h('button', { type: 'submit', class: 'primary' }, 'Create team'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const team = await api('/teams', { method: 'POST', key: crypto.randomUUID(), body: { name: form.elements.name.value.trim() } });
      state.workspaces = (await api('/workspaces')).workspaces || [];
      saveShell();
      renderWorkspaces();
      location.hash = wsPath('members', team.id);
    } catch (e) {
      if (!signal.aborted) alert.textContent = e.message;
    }
  });
  clear(main, form);
  form.querySelector('input').focus();
}

function renderOutbox(list) {
  const ul = $('outbox');
  clear(ul, list.sort((a, b) => a.n - b.n).map((i) => {
    const title = i.title.length > 80 ? i.title.slice(0, 79) + '…' : i.title;
    const what = i.op === 'create' ? `New memory '${title}'` : `Edit of '${title}'`;
    const status = { pending: 'waiting to be sent', sending: 'sending…', refused: 'refused' }[i.status];
    return h('li', { dataset: { outboxKey: i.key, status: i.status }, class: 'outbox-item ' + i.status },
      h('span', {}, what + ' — ' + status),
      i.status === 'refused' ? h('span', { class: 'error-text' }, ': ' + (i.error && i.error.message)) : null,
      i.status === 'refused'
        ? h('button', { type: 'button', class: 'small', onclick: () => outbox.dismiss(i.n) }, 'Dismiss')
        : null);
  }));
  $('outbox-panel').hidden = list.length === 0;
}

async function refreshOutbox() {
  try { renderOutbox(await outbox.mine()); } catch { /* IndexedDB unavailable */ }
}

function boot() {
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
  setInterval(tickClock, 20000);
  $('skip').addEventListener('click', (e) => { e.preventDefault(); main.focus(); });
  $('signout').addEventListener('click', () => signOut(false));
  $('signout-all').addEventListener('click', () => {
    if (window.confirm('Sign out of the dashboard in every browser, this one included? Access tokens (the CLI, the agent) keep working.'))
      signOut(true);
  });
  $('new-team').addEventListener('click', newTeam);
  outbox.events.addEventListener('change', refreshOutbox);
  refreshOutbox();
  stream.addEventListener('open', () => {
    outbox.flush();
    // A page that could not load while the server was away loads now.
    if (main.dataset.stale) route();
  });
  // Our own role or the team's name changed: the controls shown depend on it.
  stream.addEventListener('event', (m) => {
    const ev = m.detail;
    const ws = state.ws;
    if (!ws || !state.me || ev.workspace_id !== ws.id) return;
    if (ev.type === 'member_role_changed' && ev.member && ev.member.user_id === state.me.id && ev.member.role !== ws.role) {
      ws.role = ev.member.role;
      toast(`Your role in ${ws.name} is now ${ws.role}.`);
    } else if (ev.type === 'workspace_updated' && ev.workspace && ev.workspace.name && ev.workspace.name !== ws.name) {
      ws.name = ev.workspace.name;
    } else {
      return;
    }
    saveShell();
    renderWorkspaces();
    route();
  });
  stream.addEventListener('gone', async () => {
    const name = state.ws ? state.ws.name : 'the workspace';
    toast(`You no longer have access to ${name}.`, 'error');
    state.ws = null;
    try { state.workspaces = (await api('/workspaces')).workspaces || []; saveShell(); } catch { /* keep the list */ }
    renderWorkspaces();
    location.hash = '#/';
  });
  window.addEventListener('mgteam:unauthorized', () => {
    if (location.pathname.startsWith('/join/') || signedOutShown) return;
    signedOutShown = true;
    showSignin('Your session has ended. Sign in again.');
  });
  window.addEventListener('hashchange', () => route());
  if (!navigator.onLine) stream.setState('offline');
  const join = location.pathname.match(/^\/join\/([^/]+)\/?$/);
  if (join) return joinView(main, decodeURIComponent(join[1]));
  enter();
}

boot();
