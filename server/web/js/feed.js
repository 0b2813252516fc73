// The activity feed: the workspace's change log as sentences, newest first.
// Past entries come from GET .../activity (pages via next_cursor, on scroll
// or with the "Load older" button); new ones arrive on the live stream as
// change events, turned into the same entry shape the server's activity route
// builds (common/src/activity.cpp). Rows are keyed by seq, so an entry seen
// twice (a page and the stream overlapping) is shown once.
import { api, enc, memoryTitle } from './api.js';
import { h, clear, timeAgo, select } from './dom.js';
import { state, ACTIONS, wsPath } from './state.js';
import { stream } from './stream.js';

const ENTITY_KEYS = ['memory', 'relationship', 'member', 'workspace', 'conflict', 'invitation'];

// A stream event → an activity entry, as the server's ActivityEntry does.
export function entryFromEvent(ev) {
  const type = ENTITY_KEYS.find((k) => ev[k] && typeof ev[k] === 'object') || '';
  const x = ev[type] || {};
  let action = ev.type || '';
  if (action.startsWith(type + '_')) action = action.slice(type.length + 1);
  let title = '', detail = {};
  if (type === 'memory') {
    title = x.title || '';
    for (const k of ['changed', 'conflicts']) if (k in ev) detail[k] = ev[k];
  } else if (type === 'relationship') {
    title = x.type || '';
    detail = { from_memory_id: x.from_memory_id, to_memory_id: x.to_memory_id };
    if (ev.cause) detail.cause = ev.cause;
  } else if (type === 'member') {
    title = x.name || '';
    detail.role = x.role || '';
    for (const k of ['previous_role', 'left']) if (k in ev) detail[k] = ev[k];
  } else if (type === 'conflict') {
    title = x.title || '';
    detail = { memory_id: x.memory_id, kind: x.kind, field: x.field };
  } else if (type === 'invitation') {
    title = x.email || '';
    detail.role = x.role || '';
  } else if (type === 'workspace') {
    title = x.name || '';
  }
  return { seq: ev.seq, at: ev.at, type: ev.type, action, entity_type: type,
    entity_id: type === 'member' ? x.user_id : x.id, actor: ev.actor, actor_name: ev.actor_name, title, detail };
}

// The sentence, as nodes: "Alice added 'Fixed Redis timeout'" with the
// title linking to the memory.
function sentence(e, ws) {
  const who = e.actor_name || 'Someone';
  const d = e.detail || {};
  const memLink = (id, text) => h('a', { href: wsPath('memories/' + enc(id), ws) }, text);
  const quoted = (node) => ["'", node, "'"];
  const t = e.title;
  switch (e.entity_type) {
    case 'memory': {
      const verb = { created: 'added', updated: 'updated', deleted: 'deleted', restored: 'restored' }[e.action] || e.action;
      const n = Array.isArray(d.conflicts) ? d.conflicts.length : 0;
      return [who + ' ' + verb + ' ', quoted(memLink(e.entity_id, t)),
        n ? ` (merged; ${n} conflicting value${n === 1 ? '' : 's'} kept)` : ''];
    }
    case 'relationship': {
      const verb2 = { created: 'linked', deleted: 'unlinked' }[e.action] || 'changed the link';
      const from = memLink(d.from_memory_id, '…'), to = memLink(d.to_memory_id, '…');
      memoryTitle(ws, d.from_memory_id).then((x) => { from.textContent = x; });
      memoryTitle(ws, d.to_memory_id).then((x) => { to.textContent = x; });
      // A link that went with a deleted memory was not removed by hand.
      if (e.action === 'deleted' && d.cause === 'memory_deleted') return ["'", from, "' " + t + " '", to, "' went with the deleted memory"];
      return [who + ' ' + verb2 + " '", from, "' " + t + " '", to, "'"];
    }
    case 'member':
      if (e.action === 'joined') return [t + ' joined as ' + (d.role || 'member')];
      if (e.action === 'removed') return [d.left ? t + ' left the team' : who + ' removed ' + t];
      if (e.action === 'role_changed') return [`${who} made ${t} ${d.role} (was ${d.previous_role})`];
      break;
    case 'invitation':
      if (e.action === 'created') return [`${who} invited ${t} as ${d.role || 'member'}`];
      if (e.action === 'revoked') return [`${who} revoked the invitation of ${t}`];
      if (e.action === 'resent') return [`${who} sent a new invitation link to ${t}`];
      break;
    case 'conflict': {
      const what = d.field || 'an edit';
      if (e.action === 'created') return [`${who}'s change to `, quoted(memLink(d.memory_id, t)), ` conflicted on ${what}; the other value is kept`];
      if (e.action === 'resolved') return [`${who} resolved a conflict on ${what} in `, quoted(memLink(d.memory_id, t))];
      break;
    }
    case 'workspace':
      if (e.action === 'created') return [`${who} created '${t}'`];
      if (e.action === 'updated') return [`${who} renamed the team to '${t}'`];
      break;
  }
  return [`${who} ${e.type} '${t}'`];
}

function row(e, ws) {
  return h('li', { dataset: { seq: e.seq, action: e.action, entity: e.entity_type } },
    h('span', { class: 'sentence' }, sentence(e, ws)), ' ', timeAgo(e.at));
}

// The date inputs hold local days; the API wants RFC 3339 instants.
function dayStart(v) { return v ? new Date(v + 'T00:00:00').toISOString() : ''; }
function dayEnd(v) { return v ? new Date(v + 'T23:59:59.999').toISOString() : ''; }

export function feedView({ ws, signal, main }) {
  const shown = new Set();
  let cursor = null, loading = false, generation = 0;
  const arrived = [];  // stream entries seen while a reload is in flight
  const list = h('ol', { id: 'feed', class: 'feed', reversed: true, 'aria-label': 'Activity, newest first' });
  const status = h('p', { class: 'muted', role: 'status' });
  const older = h('button', { id: 'feed-older', type: 'button', hidden: true }, 'Load older');
  const actor = select('actor', [['', 'Everyone']], '');
  const action = select('action', [['', 'Any action'], ...ACTIONS.map((a) => [a, a.replace('_', ' ')])], '');
  const since = h('input', { name: 'since', type: 'date' });
  const until = h('input', { name: 'until', type: 'date' });
  const lbl = (text, control) => {
    control.id = 'feed-' + control.name;
    return h('div', { class: 'field inline' }, h('label', { for: control.id }, text), control);
  };
  const filters = h('form', { id: 'feed-filters', class: 'filters', role: 'search', 'aria-label': 'Filter the feed' },
    lbl('Person', actor), lbl('Action', action), lbl('From', since), lbl('To', until),
    h('button', { type: 'reset', class: 'small' }, 'Clear'));

  clear(main, h('h1', { tabindex: '-1' }, 'Activity'), filters, status, list, older);

  const f = () => ({ actor: actor.value, action: action.value, since: dayStart(since.value), until: dayEnd(until.value) });
  const matches = (e, q) => (!q.actor || e.actor === q.actor) && (!q.action || e.action === q.action)
    && (!q.since || e.at >= q.since) && (!q.until || e.at <= q.until);

  function insert(e) {
    if (shown.has(e.seq)) return;
    shown.add(e.seq);
    const li = row(e, ws.id);
    // Keep newest first even when the stream and a page interleave.
    const after = [...list.children].find((c) => Number(c.dataset.seq) < e.seq);
    list.insertBefore(li, after || null);
  }

  // The newest full reload, so a check can wait for it to land.
  let lastReload = Promise.resolve();
  function load(reset) {
    const p = loadPage(reset);
    if (reset) lastReload = p;
    return p;
  }

  // The newest page's query under filters `q`.
  function pageParams(q) {
    const params = new URLSearchParams({ limit: '50' });
    for (const [k, v] of Object.entries(q)) if (v) params.set(k, v);
    return params;
  }

  async function loadPage(reset) {
    if (loading && !reset) return;
    const gen = reset ? ++generation : generation;
    loading = true;
    const q = f();
    if (reset) arrived.length = 0;
    const params = pageParams(q);
    if (!reset && cursor) params.set('cursor', cursor);
    status.textContent = reset ? 'Loading…' : 'Loading older entries…';
    try {
      const page = await api(`/workspaces/${enc(ws.id)}/activity?${params}`, { stale: true });
      if (signal.aborted || gen !== generation) return;
      if (reset) {
        shown.clear();
        list.replaceChildren();
        // Stream rows that arrived while the page was on its way may be
        // newer than the page: keep them.
        for (const e of arrived) insert(e);
      }
      for (const e of page.activity || []) insert(e);
      cursor = page.next_cursor || null;
      older.hidden = !cursor;
      status.textContent = list.children.length ? '' : 'No activity yet' + (Object.values(q).some(Boolean) ? ' matching these filters.' : '.');
    } catch (e) {
      if (!signal.aborted && gen === generation) {
        status.textContent = 'Could not load the feed: ' + e.message;
        main.dataset.stale = 'true';  // drawn again once the stream is back
      }
    } finally {
      if (gen === generation) loading = false;
    }
  }

  filters.addEventListener('change', () => load(true));
  filters.addEventListener('submit', (ev) => { ev.preventDefault(); load(true); });
  filters.addEventListener('reset', () => setTimeout(() => load(true)));
  older.addEventListener('click', () => load(false));
  const io = new IntersectionObserver((es) => { if (es.some((x) => x.isIntersecting) && cursor) load(false); });
  io.observe(older);
  signal.addEventListener('abort', () => io.disconnect());

  stream.addEventListener('event', (m) => {
    const ev = m.detail;
    if (ev.workspace_id && ev.workspace_id !== ws.id) return;
    const e = entryFromEvent(ev);
    if (!matches(e, f())) return;
    if (loading) arrived.push(e);
    insert(e);
    status.textContent = '';
  }, { signal });
  stream.addEventListener('reset', () => load(true), { signal });
  // A fresh stream starts at the head it reports in `connected`. A change
  // that landed after the feed's page was read but before the stream began
  // would be in neither: when the head is past the newest row, read the
  // newest page again (rows are keyed by seq, so nothing doubles).
  stream.addEventListener('connected', async (m) => {
    const head = m.detail.head_seq;
    await lastReload;  // a page read before the stream began may still be on its way
    let newest = 0;
    for (const seq of shown) newest = Math.max(newest, seq);
    if (signal.aborted || !Number.isInteger(head) || head <= newest) return;
    try {
      const page = await api(`/workspaces/${enc(ws.id)}/activity?${pageParams(f())}`, { stale: true });
      if (!signal.aborted) for (const e of page.activity || []) insert(e);
    } catch { /* the next connect or event tries again */ }
  }, { signal });

  // The person filter lists the members (a personal workspace: just you).
  (async () => {
    let people = [[state.me.id, state.me.name || state.me.email]];
    if (ws.type !== 'personal') {
      try {
        const r = await api(`/teams/${enc(ws.id)}/members`, { stale: true });
        people = r.members.map((m) => [m.user_id, m.name || m.email]);
      } catch { /* keep the fallback */ }
    }
    if (signal.aborted) return;
    for (const [id, name] of people) actor.append(h('option', { value: id }, name));
  })();

  load(true);
}
