// /join/<token>: the page an invitation link opens. It names the team and
// who invited whom, then either creates the account with the invitation
// (email fixed to the invited one) or signs in to an existing account and
// accepts; either way it ends in the team's feed.
import { api, enc } from './api.js';
import { h, clear, field, showFormError, clearFormErrors } from './dom.js';
import { stream } from './stream.js';

const PROBLEMS = {
  invitation_not_found: 'This invitation link is not valid. Check that you copied all of it, or ask for a new one.',
  invitation_revoked: 'This invitation was withdrawn. Ask the team for a new one.',
  invitation_expired: 'This invitation has expired. Ask the team to send you a new one.',
  invitation_used: 'This invitation has already been used. If it was you, sign in to reach the team.',
  invitation_email_mismatch: 'This invitation was sent to another email address. Sign in (or sign up) with the address it was sent to.',
};

export async function joinView(main, token) {
  document.title = 'Join a team · mgteam';
  const section = h('section', { id: 'join', class: 'card narrow', 'aria-labelledby': 'join-title' });
  clear(main, section);
  // This page holds no stream: the indicator says "signed out" until the
  // visitor is, and nothing when they are signed in already.
  let me = null;
  try { me = (await api('/me', { quiet401: true })).user; } catch { /* not signed in */ }
  if (me) document.getElementById('connection').hidden = true;
  else stream.setState('signed-out');
  let inv;
  try {
    inv = (await api(`/invitations/${enc(token)}`, { quiet401: true })).invitation;
  } catch (e) {
    clear(section, h('h1', { id: 'join-title', tabindex: '-1' }, 'Invitation'),
      h('p', { role: 'alert', class: 'alert', dataset: { code: e.code } }, PROBLEMS[e.code] || e.message),
      h('p', {}, h('a', { href: '/' }, 'Go to mgteam')));
    return;
  }
  const land = () => location.replace('/#/w/' + encodeURIComponent(inv.workspace_id) + '/feed');
  const accept = async () => {
    await api(`/invitations/${enc(token)}/accept`, { method: 'POST', body: {}, key: crypto.randomUUID(), quiet401: true });
    land();
  };
  const describe = (e) => PROBLEMS[e.code] || e.message;


  const intro = h('p', {}, inv.invited_by_name ? `${inv.invited_by_name} invited ` : 'You are invited: ',
    h('strong', {}, inv.email), ` to join as ${inv.role}.`);
  const expiry = inv.expires_at ? h('p', { class: 'muted' }, 'The invitation is valid until ' + new Date(inv.expires_at).toLocaleString() + '.') : null;
  const parts = [h('h1', { id: 'join-title', tabindex: '-1' }, `Join ${inv.team_name}`), intro, expiry];

  if (me && (me.email || '').toLowerCase() !== (inv.email || '').toLowerCase()) {
    // The server would refuse (the address must match): say so instead of
    // offering a button that cannot work.
    parts.push(h('p', {}, `You are signed in as ${me.email}, but this invitation is for ${inv.email}. `
      + 'Sign up or sign in with that address below (this signs you out here).'));
  } else if (me) {
    const alert = h('p', { role: 'alert', class: 'alert' });
    const btn = h('button', { type: 'button', id: 'accept', class: 'primary' }, `Join ${inv.team_name} as ${me.name || me.email}`);
    btn.addEventListener('click', async () => {
      try { await accept(); } catch (e) { alert.textContent = describe(e); }
    });
    parts.push(h('p', {}, `You are signed in as ${me.email}.`), btn, alert,
      h('p', { class: 'muted' }, 'Not the invited account? Sign in or sign up with the invited address below.'));
  }

  // New here: sign up with the invitation (works even when open sign-up is off).
  const suEmail = h('input', { name: 'email', type: 'email', value: inv.email, readOnly: true, autocomplete: 'username' });
  const suName = h('input', { name: 'name', autocomplete: 'name' });
  const suPass = h('input', { name: 'password', type: 'password', autocomplete: 'new-password' });
  const suAlert = h('p', { role: 'alert', class: 'alert' });
  const signup = h('form', { id: 'signup', novalidate: true, 'aria-labelledby': 'h-signup' },
    h('h2', { id: 'h-signup' }, 'New to mgteam? Create your account'),
    field('Email', suEmail), field('Your name', suName), field('Password', suPass, 'At least 8 characters.'),
    suAlert, h('button', { type: 'submit', class: 'primary' }, 'Create account and join'));
  signup.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFormErrors(signup);
    try {
      const body = { email: inv.email, password: suPass.value, invitation_token: token, session: true };
      if (suName.value.trim()) body.name = suName.value.trim();
      await api('/auth/signup', { method: 'POST', body, quiet401: true });
      land();
    } catch (e) {
      if (e.code === 'email_taken') e.message = 'There is already an account with this email: sign in below instead.';
      else if (PROBLEMS[e.code]) e.message = PROBLEMS[e.code];
      showFormError(signup, e);
    }
  });

  // Already have an account: sign in, then accept.
  const siEmail = h('input', { name: 'email', type: 'email', value: inv.email, autocomplete: 'username' });
  const siPass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password' });
  const siAlert = h('p', { role: 'alert', class: 'alert' });
  const signin = h('form', { id: 'signin', novalidate: true, 'aria-labelledby': 'h-signin' },
    h('h2', { id: 'h-signin' }, 'Already have an account? Sign in'),
    field('Email', siEmail), field('Password', siPass), siAlert,
    h('button', { type: 'submit' }, 'Sign in and join'));
  signin.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFormErrors(signin);
    try {
      await api('/auth/session', { method: 'POST', body: { email: siEmail.value.trim(), password: siPass.value }, quiet401: true });
    } catch (e) {
      siAlert.textContent = e.code === 'invalid_credentials' ? 'Wrong email or password.' : e.message;
      return;
    }
    try { await accept(); } catch (e) { siAlert.textContent = describe(e); }
  });

  parts.push(h('div', { class: 'join-forms' }, signup, signin));
  clear(section, parts);
}
