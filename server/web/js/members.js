// Members of a team: roles, invitations (with the link to pass on when the
// server does not mail), role changes, removal and ownership transfer. Only
// the controls the viewer's role may use are built (rbac.h's table, plus
// its rules: an admin cannot touch an owner or invite one; nobody removes
// themselves here).
import { api, enc } from './api.js';
import { h, clear, field, select, timeAgo, toast, showFormError, clearFormErrors } from './dom.js';
import { state, can, ROLES } from './state.js';
import { stream } from './stream.js';

export function membersView({ ws, signal, main }) {
  const team = `/teams/${enc(ws.id)}`;
  const role = ws.role;
  const alert = h('p', { role: 'alert', class: 'alert' });
  const table = h('table', { id: 'members', class: 'members' },
    h('caption', { class: 'visually-hidden' }, 'Team members and their roles'),
    h('thead', {}, h('tr', {}, ['Name', 'Email', 'Role', 'Status', 'Joined', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody'));
  const invites = h('section', { 'aria-labelledby': 'h-invites' });
  const transfer = h('section', { 'aria-labelledby': 'h-transfer' });
  clear(main, h('h1', { tabindex: '-1' }, 'Members'), alert);

  if (ws.type === 'personal') {
    main.append(h('p', {}, 'This is your personal workspace: only you can see it. Create a team to share memories.'));
    return;
  }
  main.append(table, invites, transfer);
  let members = [];
  const presence = new Map();  // user id → {online, last_seen}

  async function load() {
    try {
      members = (await api(`${team}/members`, { stale: true })).members || [];
    } catch (e) {
      if (!signal.aborted) {
        alert.textContent = 'Could not load members: ' + e.message;
        main.dataset.stale = 'true';
      }
      return;
    }
    if (signal.aborted) return;
    const me = members.find((m) => m.user_id === state.me.id);
    if (me && me.role !== ws.role) {  // our role changed meanwhile
      ws.role = me.role;
      return rerender();
    }
    renderMembers();
    if (role === 'owner') renderTransfer();
  }

  function renderMembers() {
    const owners = members.filter((m) => m.role === 'owner').length;
    clear(table.tBodies[0], members.map((m) => {
      const self = m.user_id === state.me.id;
      let roleCell = m.role;
      if (can('member.change_role') && !self) {
        const sel = select('role', ROLES.map((r) => [r, r]), m.role, { 'aria-label': `Role of ${m.name || m.email}` });
        sel.addEventListener('change', async () => {
          // An owner can remove or demote every other owner, you included:
          // one slip of a dropdown must not hand that over.
          if (sel.value === 'owner' && !window.confirm(`Make ${m.name || m.email} an owner too? Owners can remove or `
            + 'demote every other owner, you included. (To hand the team over, use Transfer ownership.)')) {
            sel.value = m.role;
            return;
          }
          try {
            await api(`${team}/members/${enc(m.user_id)}`, { method: 'PATCH', key: crypto.randomUUID(), body: { role: sel.value } });
            toast(`${m.name || m.email} is now ${sel.value}.`);
            load();
          } catch (e) {
            sel.value = m.role;
            alert.textContent = e.message;
          }
        });
        roleCell = sel;
      }
      const mayRemove = !self && can('member.remove') && !(role === 'admin' && m.role === 'owner');
      const mayLeave = self && !(m.role === 'owner' && owners <= 1);
      const actions = h('td', {},
        mayRemove ? h('button', { type: 'button', class: 'small danger', dataset: { action: 'remove' },
          'aria-label': `Remove ${m.name || m.email}`, onclick: () => remove(m, false) }, 'Remove') : null,
        mayLeave ? h('button', { type: 'button', class: 'small', dataset: { action: 'leave' }, onclick: () => remove(m, true) }, 'Leave team') : null);
      return h('tr', { dataset: { userId: m.user_id } },
        h('th', { scope: 'row' }, m.name || '—', self ? ' (you)' : ''),
        h('td', { class: 'email' }, m.email || ''),
        h('td', {}, roleCell),
        h('td', { class: 'presence', dataset: { presenceFor: m.user_id } }, presenceText(presence.get(m.user_id), m.user_id)),
        h('td', {}, m.joined_at ? timeAgo(m.joined_at) : ''),
        actions);
    }));
  }

  async function remove(m, self) {
    try {
      await api(`${team}/members/${enc(m.user_id)}`, { method: 'DELETE', key: crypto.randomUUID() });
      if (self) { location.hash = '#/'; location.reload(); return; }
      toast(`${m.name || m.email} was removed.`);
      load();
    } catch (e) {
      alert.textContent = e.message;
    }
  }

  function renderInvites() {
    if (!can('member.invite')) return;
    const email = h('input', { name: 'email', type: 'email', autocomplete: 'off' });
    const inviteRoles = (role === 'owner' ? ROLES : ROLES.slice(1)).map((r) => [r, r]);
    const roleSel = select('role', inviteRoles, 'member');
    const formAlert = h('p', { role: 'alert', class: 'alert' });
    const linkBox = h('div', { class: 'invite-link', hidden: true });
    const form = h('form', { id: 'invite', class: 'card', novalidate: true },
      h('h3', {}, 'Invite someone'), field('Email', email), field('Role', roleSel), formAlert,
      h('button', { type: 'submit', class: 'primary' }, 'Invite'));
    const list = h('ul', { id: 'invitations', class: 'plain' });
    clear(invites, h('h2', { id: 'h-invites' }, 'Invitations'), form, linkBox, h('h3', {}, 'Pending'), list);

    function showLink(r, who) {
      if (r.delivery === 'sent' && !r.accept_url) {
        clear(linkBox, h('p', {}, `Invitation mailed to ${who}.`));
      } else {
        const input = h('input', { id: 'invite-link', type: 'text', readOnly: true, value: r.accept_url || '' });
        const copy = h('button', { type: 'button', class: 'small' }, 'Copy');
        copy.addEventListener('click', async () => {
          input.select();
          try { await navigator.clipboard.writeText(input.value); toast('Link copied.'); } catch { toast('Select the link and copy it.'); }
        });
        clear(linkBox,
          h('p', {}, r.delivery === 'failed' ? `The mail to ${who} could not be sent (${r.delivery_error || 'unknown error'}). ` : '',
            `Send ${who} this link; it works once:`),
          h('div', { class: 'field inline grow' }, h('label', { for: 'invite-link' }, 'Invitation link'), input, copy));
      }
      linkBox.hidden = false;
    }

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearFormErrors(form);
      linkBox.hidden = true;  // the last invitee's link is not this one's
      try {
        const r = await api(`${team}/invite`, { method: 'POST', key: crypto.randomUUID(), body: { email: email.value.trim(), role: roleSel.value } });
        showLink(r, email.value.trim());
        email.value = '';
        loadInvitations();
      } catch (e) {
        showFormError(form, e);
      }
    });

    async function loadInvitations() {
      try {
        const r = await api(`${team}/invitations`, { stale: true });
        if (signal.aborted) return;
        const items = (r.invitations || []).filter((i) => !i.status || i.status === 'pending');
        if (!items.length) return clear(list, h('li', { class: 'muted' }, 'No pending invitations.'));
        clear(list, items.map((i) => h('li', { dataset: { invitationId: i.id } },
          h('span', {}, `${i.email} as ${i.role}, expires `, timeAgoFuture(i.expires_at)), ' ',
          h('button', { type: 'button', class: 'small', dataset: { action: 'resend' }, 'aria-label': `Resend the invitation to ${i.email}`,
            onclick: async () => {
              try { showLink(await api(`${team}/invitations/${enc(i.id)}/resend`, { method: 'POST', key: crypto.randomUUID(), body: {} }), i.email); loadInvitations(); }
              catch (e) { formAlert.textContent = e.message; }
            } }, 'Resend'), ' ',
          h('button', { type: 'button', class: 'small danger', dataset: { action: 'revoke' }, 'aria-label': `Revoke the invitation to ${i.email}`,
            onclick: async () => {
              try { await api(`${team}/invitations/${enc(i.id)}`, { method: 'DELETE', key: crypto.randomUUID() }); toast('Invitation revoked.'); loadInvitations(); }
              catch (e) { formAlert.textContent = e.message; }
            } }, 'Revoke'))));
      } catch (e) {
        if (!signal.aborted) clear(list, h('li', { class: 'muted' }, 'Could not load invitations: ' + e.message));
      }
    }
    loadInvitations();
  }

  function renderTransfer() {
    const others = members.filter((m) => m.user_id !== state.me.id);
    if (!others.length) return clear(transfer);
    const sel = select('user_id', others.map((m) => [m.user_id, `${m.name || m.email} (${m.role})`]), others[0].user_id);
    const formAlert = h('p', { role: 'alert', class: 'alert' });
    const form = h('form', { id: 'transfer', class: 'card' },
      h('h2', { id: 'h-transfer' }, 'Transfer ownership'),
      h('p', { class: 'hint' }, 'The new owner gets full control; you become an admin.'),
      field('New owner', sel), formAlert, h('button', { type: 'submit', class: 'danger' }, 'Transfer ownership'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api(`${team}/transfer`, { method: 'POST', key: crypto.randomUUID(), body: { user_id: sel.value } });
        toast('Ownership transferred.');
        ws.role = 'admin';
        rerender();
      } catch (e) { formAlert.textContent = e.message; }
    });
    clear(transfer, form);
  }

  stream.addEventListener('event', (m) => { if (m.detail.member || m.detail.invitation) load(); }, { signal });
  stream.addEventListener('presence', (m) => {
    const p = m.detail;
    presence.set(p.user_id, { online: p.online, last_seen: p.last_seen });
    const cell = table.querySelector(`[data-presence-for="${CSS.escape(p.user_id)}"]`);
    if (cell) clear(cell, presenceText(presence.get(p.user_id), p.user_id));
  }, { signal });
  api(`/workspaces/${enc(ws.id)}/presence`).then((r) => {
    for (const p of r.presence || []) presence.set(p.user_id, p);
    for (const cell of table.querySelectorAll('[data-presence-for]')) clear(cell, presenceText(presence.get(cell.dataset.presenceFor), cell.dataset.presenceFor));
  }, () => {});
  renderInvites();
  load();
}

function presenceText(p, userId) {
  // The server tells the other members when someone comes online, never
  // that person: this page's own live stream is the answer for "you".
  if (userId && state.me && userId === state.me.id && stream.state === 'live') return h('span', { class: 'online' }, 'online');
  if (!p) return 'not seen';
  if (p.online) return h('span', { class: 'online' }, 'online');
  return p.last_seen ? ['last seen ', timeAgo(p.last_seen)] : 'not seen';
}

// The route draws the view again, replacing this one and its listeners.
const rerender = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

function timeAgoFuture(iso) {
  const t = Date.parse(iso);
  const days = Math.round((t - Date.now()) / 86400000);
  const text = Number.isNaN(t) ? '' : days >= 1 ? `in ${days} day${days === 1 ? '' : 's'}` : 'today';
  return h('time', { datetime: iso, title: Number.isNaN(t) ? '' : new Date(t).toLocaleString() }, text);
}
