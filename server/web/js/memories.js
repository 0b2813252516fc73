// Memories: the list (type and tag filters go to the API; the text search
// filters the loaded pages, as the API has no full-text search), a detail
// view with relationships and conflicts, and one form that creates and edits.
// Creates and edits go through the outbox (outbox.js), so they work offline
// and show as pending until sent.
import { api, ApiError, enc, memoryTitle, rememberTitle } from './api.js';
import { h, clear, field, select, timeAgo, showFormError, clearFormErrors, toast } from './dom.js';
import { can, MEMORY_TYPES, wsPath } from './state.js';
import { stream } from './stream.js';
import * as outbox from './outbox.js';

const base = (ws) => `/workspaces/${enc(ws.id)}`;

// The memories this page has loaded, so that one seen before the network
// went away can still be shown and edited (the edit then waits in the outbox).
const seen = new Map();
async function fetchMemory(ws, id, query = '') {
  try {
    const m = await api(`${base(ws)}/memories/${enc(id)}${query}`, { stale: true });
    seen.set(id, m);
    return m;
  } catch (e) {
    if (e.unreachable && seen.has(id)) return seen.get(id);
    throw e;
  }
}
const typeLabel = (t) => t.replace('_', ' ');

function memoryItem(m, ws, pending) {
  return h('li', { class: 'memory-item' + (m.deleted ? ' deleted' : ''), dataset: { memoryId: m.id, ...(pending ? { pending: 'true' } : {}) } },
    h('a', { href: wsPath('memories/' + enc(m.id), ws.id), class: 'memory-title' }, m.title),
    ' ', h('span', { class: 'badge' }, typeLabel(m.type || 'general')),
    pending ? h('span', { class: 'badge pending' }, 'pending') : null,
    m.deleted ? h('span', { class: 'badge deleted' }, 'deleted') : null,
    m.summary ? h('p', { class: 'summary' }, m.summary) : null,
    (m.tags || []).length ? h('p', { class: 'tags' }, m.tags.map((t) => h('span', { class: 'tag' }, t))) : null,
    m.updated_at ? h('p', { class: 'muted small' }, 'Updated ', timeAgo(m.updated_at)) : null);
}

export function memoriesView({ ws, signal, main }) {
  let loaded = [], cursor = null, generation = 0;
  const q = h('input', { name: 'q', type: 'search', id: 'mem-q', autocomplete: 'off' });
  const type = select('type', [['', 'Any type'], ...MEMORY_TYPES.map((t) => [t, typeLabel(t)])], '', { id: 'mem-type' });
  const tag = h('input', { name: 'tag', id: 'mem-tag', autocomplete: 'off' });
  const deleted = h('input', { name: 'include_deleted', type: 'checkbox', id: 'mem-deleted' });
  const form = h('form', { id: 'memory-search', class: 'filters', role: 'search', 'aria-label': 'Search memories' },
    h('div', { class: 'field inline grow' }, h('label', { for: 'mem-q' }, 'Search'), q),
    h('div', { class: 'field inline' }, h('label', { for: 'mem-type' }, 'Type'), type),
    h('div', { class: 'field inline' }, h('label', { for: 'mem-tag' }, 'Tag'), tag),
    can('memory.delete') ? h('div', { class: 'field inline check' }, deleted, h('label', { for: 'mem-deleted' }, 'Show deleted')) : null,
    h('button', { type: 'submit', class: 'small' }, 'Search'));
  const list = h('ul', { id: 'memories', class: 'memories', 'aria-label': 'Memories' });
  const status = h('p', { class: 'muted', role: 'status' });
  const more = h('button', { type: 'button', id: 'memories-more', hidden: true }, 'Load more');
  const newBtn = can('memory.write')
    ? h('button', { id: 'new-memory', type: 'button', class: 'primary', onclick: () => { location.hash = wsPath('memories/new', ws.id); } }, 'New memory')
    : null;
  clear(main, h('div', { class: 'title-row' }, h('h1', { tabindex: '-1' }, 'Memories'), newBtn), form, status, list, more);

  async function render() {
    const needle = q.value.trim().toLowerCase();
    const hit = (m) => !needle || [m.title, m.summary, m.content].some((s) => s && s.toLowerCase().includes(needle));
    let pending = [], queued = [];
    try {
      const mine = await outbox.mine();
      pending = mine.filter((i) => i.ws === ws.id && i.op === 'create' && !loaded.some((m) => m.id === i.body.id));
      queued = queuedEdits(mine, ws);
    } catch { /* no IndexedDB */ }
    if (signal.aborted) return;
    // Edits still queued show as they will be, marked pending.
    const shown = loaded.map((m) => overlay(m, queued));
    const rows = [...pending.filter((i) => hit(i.body)).map((i) => memoryItem({ ...i.body, updated_at: i.queued_at }, ws, true)),
      ...shown.filter((x) => hit(x.memory)).map((x) => memoryItem(x.memory, ws, x.queued))];
    clear(list, rows);
    status.textContent = rows.length ? (needle ? `${rows.length} shown of those loaded` + (cursor ? ' (load more to search further)' : '') : '')
      : needle || type.value || tag.value ? 'No memories match.' : 'No memories yet.';
  }

  async function load(reset) {
    const gen = reset ? ++generation : generation;
    const params = new URLSearchParams({ limit: '100' });
    if (type.value) params.set('type', type.value);
    if (tag.value.trim()) params.set('tag', tag.value.trim().toLowerCase());
    if (deleted.checked) params.set('include_deleted', 'true');
    if (!reset && cursor) params.set('cursor', cursor);
    status.textContent = 'Loading…';
    try {
      const page = await api(`${base(ws)}/memories?${params}`, { stale: true });
      if (signal.aborted || gen !== generation) return;
      loaded = reset ? page.memories : [...loaded, ...page.memories];
      for (const m of page.memories) { rememberTitle(m.id, m.title); seen.set(m.id, m); }
      cursor = page.next_cursor || null;
      more.hidden = !cursor;
    } catch (e) {
      if (signal.aborted || gen !== generation) return;
      if (reset) loaded = [];
      await render();
      status.textContent = 'Could not load memories: ' + e.message;
      main.dataset.stale = 'true';
      return;
    }
    render();
  }

  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(true); });
  type.addEventListener('change', () => load(true));
  tag.addEventListener('change', () => load(true));
  deleted.addEventListener('change', () => load(true));
  q.addEventListener('input', render);
  more.addEventListener('click', () => load(false));
  outbox.events.addEventListener('change', render, { signal });
  outbox.events.addEventListener('sent', () => load(true), { signal });
  stream.addEventListener('event', (m) => {
    const mem = m.detail.memory;
    if (!mem || m.detail.workspace_id !== ws.id) return;
    const i = loaded.findIndex((x) => x.id === mem.id);
    const fits = (!type.value || mem.type === type.value) && (!mem.deleted || deleted.checked)
      && (!tag.value.trim() || tag.value.toLowerCase().split(',').map((t) => t.trim()).filter(Boolean).every((t) => (mem.tags || []).includes(t)));
    if (i >= 0) { if (fits) loaded[i] = mem; else loaded.splice(i, 1); }
    else if (fits) loaded.unshift(mem);
    rememberTitle(mem.id, mem.title);
    seen.set(mem.id, mem);
    render();
  }, { signal });
  stream.addEventListener('reset', () => load(true), { signal });
  load(true);
}

function show(v) {
  if (v === null || v === undefined || v === '') return '(empty)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

// Edits waiting in the outbox, laid over the server's copy: what the memory
// will be once they are sent, so an edit made offline shows where it was
// made (docs/dashboard.md, "Writes made offline").
function queuedEdits(items, ws) {
  return items.filter((i) => i.ws === ws.id && i.op === 'update' && i.status !== 'refused').sort((a, b) => a.n - b.n);
}
function overlay(m, edits) {
  const mine = edits.filter((i) => i.memory_id === m.id);
  if (!mine.length) return { memory: m, queued: false };
  const out = { ...m };
  for (const e of mine)
    for (const [k, v] of Object.entries(e.body)) if (k !== 'base_version' && k !== 'edited_at') out[k] = v;
  return { memory: out, queued: true };
}
async function withQueuedEdits(ws, m) {
  return overlay(m, queuedEdits(await outbox.mine().catch(() => []), ws));
}

export function memoryView({ ws, signal, main }, id) {
  let timer = null;
  async function load() {
    let m;
    try {
      m = await fetchMemory(ws, id, '?include_deleted=true');
    } catch (e) {
      if (signal.aborted) return;
      const queued = (await outbox.mine().catch(() => [])).find((i) => i.op === 'create' && i.body.id === id);
      if (queued) return renderMemory({ ...queued.body, version: 0 }, true);
      if (e.status !== 404) main.dataset.stale = 'true';
      clear(main, h('h1', { tabindex: '-1' }, e.status === 404 ? 'Memory not found' : 'Could not load this memory'),
        h('p', {}, e.message), h('p', {}, h('a', { href: wsPath('memories', ws.id) }, 'Back to memories')));
      return;
    }
    if (signal.aborted) return;
    rememberTitle(m.id, m.title);
    const { memory, queued } = await withQueuedEdits(ws, m);
    if (signal.aborted) return;
    renderMemory(memory, false, queued);
  }

  function renderMemory(m, pending, edited = false) {
    const actions = h('div', { class: 'actions' });
    if (!m.deleted && can('memory.write'))
      actions.append(h('button', { id: 'edit-memory', type: 'button', onclick: () => { location.hash = wsPath(`memories/${enc(id)}/edit`, ws.id); } }, 'Edit'));
    if (!pending && !m.deleted && can('memory.delete'))
      actions.append(h('button', { id: 'delete-memory', type: 'button', class: 'danger', onclick: () => act('DELETE', `?base_version=${m.version}`, 'Deleted.') }, 'Delete'));
    if (m.deleted && can('memory.delete'))
      actions.append(h('button', { id: 'restore-memory', type: 'button', onclick: () => act('POST', '/restore', 'Restored.') }, 'Restore'));
    const rels = h('ul', { id: 'relationships', class: 'plain' });
    const conflicts = h('ul', { id: 'conflicts', class: 'plain' });
    const article = h('article', { id: 'memory', dataset: { memoryId: m.id, ...(edited ? { pending: 'edit' } : {}) } },
      h('p', {}, h('a', { href: wsPath('memories', ws.id) }, '← All memories')),
      h('h1', { tabindex: '-1' }, m.title),
      h('p', { class: 'meta' }, h('span', { class: 'badge' }, typeLabel(m.type || 'general')),
        pending ? h('span', { class: 'badge pending' }, 'pending') : null,
        edited ? h('span', { class: 'badge pending', id: 'edit-pending' }, 'edit pending') : null,
        m.deleted ? h('span', { class: 'badge deleted' }, 'deleted') : null,
        m.version ? ` version ${m.version}` : '', m.updated_at ? [' · updated ', timeAgo(m.updated_at)] : ''),
      actions,
      m.summary ? h('p', { class: 'summary lead' }, m.summary) : null,
      h('dl', { class: 'facts' },
        h('dt', {}, 'Tags'), h('dd', {}, (m.tags || []).length ? m.tags.map((t) => h('span', { class: 'tag' }, t)) : 'none'),
        h('dt', {}, 'Importance'), h('dd', {}, String(m.importance ?? 0.5)),
        h('dt', {}, 'Confidence'), h('dd', {}, String(m.confidence ?? 0.8))),
      h('section', { 'aria-labelledby': 'h-content' }, h('h2', { id: 'h-content' }, 'Content'),
        h('div', { class: 'content' }, m.content || '(no content)')),
      h('section', { 'aria-labelledby': 'h-rels' }, h('h2', { id: 'h-rels' }, 'Relationships'), rels),
      h('section', { 'aria-labelledby': 'h-conflicts' }, h('h2', { id: 'h-conflicts' }, 'Conflicts'), conflicts));
    const focused = document.activeElement && document.activeElement.id;
    clear(main, article);
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    if (!pending) { loadRelationships(rels); loadConflicts(conflicts); }
  }

  async function act(method, suffix, done) {
    try {
      await api(`${base(ws)}/memories/${enc(id)}${suffix}`, { method, key: crypto.randomUUID(), body: method === 'POST' ? {} : undefined });
      toast(done);
      load();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function loadRelationships(ul) {
    try {
      const r = await api(`${base(ws)}/relationships?memory_id=${enc(id)}&limit=500`, { stale: true });
      const items = r.relationships || r.items || [];
      if (!items.length) return clear(ul, h('li', { class: 'muted' }, 'No relationships.'));
      clear(ul, items.map((rel) => {
        const outgoing = rel.from_memory_id === id;
        const other = outgoing ? rel.to_memory_id : rel.from_memory_id;
        const link = h('a', { href: wsPath('memories/' + enc(other), ws.id), dataset: { memoryId: other } }, '…');
        memoryTitle(ws.id, other).then((t) => { link.textContent = t; });
        const type = h('span', { class: 'rel-type' }, rel.type);
        return h('li', { dataset: { relationshipId: rel.id, direction: outgoing ? 'out' : 'in' } },
          outgoing ? ['This memory ', type, ' ', link] : [link, ' ', type, ' this memory']);
      }));
    } catch (e) {
      if (signal.aborted) return;
      if (e.unreachable) main.dataset.stale = 'true';
      clear(ul, h('li', { class: 'muted' }, 'Could not load relationships: ' + e.message));
    }
  }

  async function loadConflicts(ul) {
    try {
      const r = await api(`${base(ws)}/conflicts?memory_id=${enc(id)}&status=open`, { stale: true });
      const items = r.conflicts || [];
      if (!items.length) return clear(ul, h('li', { class: 'muted' }, 'No open conflicts.'));
      clear(ul, items.map((c) => {
        const who = (s) => (s && s.name ? ' (' + s.name + ')' : '');
        const alert = h('p', { role: 'alert', class: 'alert' });
        const resolve = async (keep) => {
          try {
            await api(`${base(ws)}/conflicts/${enc(c.id)}`, { method: 'POST', key: crypto.randomUUID(), body: { keep } });
            toast('Conflict resolved.');
            load();
          } catch (e) { alert.textContent = e.message; }
        };
        return h('li', { class: 'conflict', dataset: { conflictId: c.id } },
          h('p', {}, h('strong', {}, c.field ? `Conflict on ${c.field}` : `Conflict (${c.kind.replaceAll('_', ' ')})`), ' ', timeAgo(c.created_at)),
          h('dl', { class: 'facts' },
            h('dt', {}, 'Kept' + who(c.kept_by)), h('dd', { class: 'value' }, show(c.kept)),
            h('dt', {}, 'Lost' + who(c.lost_by)), h('dd', { class: 'value' }, show(c.lost))),
          can('memory.write') ? h('div', { class: 'actions' },
            h('button', { type: 'button', dataset: { keep: 'current' }, onclick: () => resolve('current') }, 'Keep current'),
            h('button', { type: 'button', dataset: { keep: 'lost' }, onclick: () => resolve('lost') }, 'Use the lost value')) : null,
          alert);
      }));
    } catch (e) {
      if (signal.aborted) return;
      if (e.unreachable) main.dataset.stale = 'true';
      clear(ul, h('li', { class: 'muted' }, 'Could not load conflicts: ' + e.message));
    }
  }

  stream.addEventListener('event', (m) => {
    const ev = m.detail;
    const touches = (ev.memory && ev.memory.id === id) || (ev.conflict && ev.conflict.memory_id === id)
      || (ev.relationship && (ev.relationship.from_memory_id === id || ev.relationship.to_memory_id === id));
    if (!touches) return;
    clearTimeout(timer);
    timer = setTimeout(() => { if (!signal.aborted) load(); }, 150);
  }, { signal });
  outbox.events.addEventListener('sent', (m) => { if (m.detail.item.body.id === id || m.detail.item.memory_id === id) load(); }, { signal });
  load();
}

// Tags as typed ("Redis, timeouts") → what the API stores, for comparing.
const parseTags = (s) => [...new Set(s.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean))].sort();

export async function memoryFormView({ ws, signal, main }, id) {
  let current = null;
  if (id) {
    try {
      current = await fetchMemory(ws, id);
      if (current.deleted) throw new ApiError({ status: 404, code: 'not_found', message: 'This memory was deleted.' });
    } catch (e) {
      const queued = (await outbox.mine().catch(() => [])).find((i) => i.op === 'create' && i.body.id === id);
      if (!queued) {
        if (!signal.aborted) {
          if (e.status !== 404) main.dataset.stale = 'true';
          clear(main, h('h1', { tabindex: '-1' }, 'Cannot edit this memory'), h('p', {}, e.message));
        }
        return;
      }
      current = { ...queued.body, version: 1 };
    }
    if (signal.aborted) return;
    // A further edit starts from the queued ones, and sends only what it changes.
    current = (await withQueuedEdits(ws, current)).memory;
    if (signal.aborted) return;
  }
  const m = current || { type: 'general', importance: 0.5 };
  const title = h('input', { name: 'title', value: m.title || '', autocomplete: 'off', 'aria-required': 'true' });
  const type = select('type', MEMORY_TYPES.map((t) => [t, typeLabel(t)]), m.type || 'general');
  const summary = h('input', { name: 'summary', value: m.summary || '', autocomplete: 'off' });
  const content = h('textarea', { name: 'content', rows: '10' });
  content.value = m.content || '';
  const tags = h('input', { name: 'tags', value: (m.tags || []).join(', '), autocomplete: 'off' });
  const importance = h('input', { name: 'importance', type: 'number', min: '0', max: '1', step: '0.05', value: String(m.importance ?? 0.5) });
  const alert = h('p', { role: 'alert', class: 'alert' });
  const form = h('form', { id: 'memory-form', class: 'card', novalidate: true },
    h('h1', { tabindex: '-1' }, id ? 'Edit memory' : 'New memory'),
    field('Title', title), field('Type', type), field('Summary', summary, 'One or two sentences, at most 500 characters.'),
    field('Content', content), field('Tags', tags, 'Separated by commas.'), field('Importance', importance, 'From 0 to 1.'),
    alert,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, id ? 'Save changes' : 'Create memory'),
      h('a', { href: id ? wsPath('memories/' + enc(id), ws.id) : wsPath('memories', ws.id), class: 'button-link' }, 'Cancel')));
  clear(main, form);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFormErrors(form);
    const imp = importance.value.trim() === '' ? undefined : Number(importance.value);
    const values = { title: title.value, type: type.value, summary: summary.value, content: content.value,
      tags: parseTags(tags.value), importance: Number.isNaN(imp) ? importance.value : imp };
    let item;
    if (!id) {
      const body = { id: crypto.randomUUID(), ...values, created_at: new Date().toISOString() };
      if (!body.summary) delete body.summary;
      if (body.importance === undefined) delete body.importance;
      item = { op: 'create', ws: ws.id, memory_id: body.id, title: body.title, body };
    } else {
      const body = {};
      for (const k of ['title', 'type', 'summary', 'content', 'importance']) {
        if (values[k] !== undefined && values[k] !== (current[k] ?? (k === 'summary' ? '' : undefined))) body[k] = values[k];
      }
      if (values.tags.join(',') !== [...(current.tags || [])].sort().join(',')) body.tags = values.tags;
      if (!Object.keys(body).length) { location.hash = wsPath('memories/' + enc(id), ws.id); return; }
      body.base_version = current.version;
      body.edited_at = new Date().toISOString();
      item = { op: 'update', ws: ws.id, memory_id: id, title: values.title || current.title, body };
    }
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    const outcome = await outbox.submit(item);
    btn.disabled = false;
    if (outcome.state === 'refused') {
      // The form is still open: the message belongs next to its field, not
      // in the outbox.
      await outbox.dismiss(outcome.item.n);
      if (!signal.aborted) showFormError(form, outcome.error);
      return;
    }
    if (outcome.state === 'sent') {
      const res = outcome.result;
      if (res && res.conflicts && res.conflicts.length) toast(`Merged with a newer version; ${res.conflicts.length} conflicting value(s) kept for review.`);
      else toast(id ? 'Saved.' : 'Memory created.');
    } else {
      toast('Saved on this device; it will be sent when the server is reachable.');
    }
    if (!signal.aborted) location.hash = wsPath('memories/' + enc(item.memory_id), ws.id);
  });
  title.focus();
}
