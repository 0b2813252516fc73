// Access scenarios of the dashboard's browser tests:
//
// roles-and-csrf: the members page offers the role dropdown and the remove
//   button to the owner and not to a member or a viewer (and a memory's page
//   offers edit to owner and member, delete to the owner); a member who forges
//   the request anyway (a fetch from the page, with their cookie) gets 403.
//   A session cookie must not be usable from another origin: a page served on
//   another loopback port (same site, so SameSite=Strict still sends the
//   cookie; only the server's origin check stands in the way) submits a form
//   and a no-cors fetch to the API and creates nothing; raw requests with the
//   cookie and a foreign Origin, a cross-site Sec-Fetch-Site or neither get
//   403 cross_site_request, while the same request from the server's own
//   origin works (so the refusals are the origin check, not a dead cookie).
// join-new-user: /join/TOKEN for someone without an account shows the team
//   and inviter, signs up with the invited email prefilled, joins, and lands
//   in the team's feed.
import assert from 'node:assert/strict';
import { addMemory, addToTeam, createTeam, invite, isSignedOutProbe, listMemories, otherOriginServer, sessionCookie,
  signInContext, signUp } from './harness.mjs';
import { openPage, submit, waitFeedRow, waitState } from './ui.mjs';

async function roles(server, owner, team) {
  const r = await server.call(200, 'GET', `/api/v1/teams/${team.id}/members`, { token: owner.token });
  return Object.fromEntries(r.members.map((m) => [m.user_id, m.role]));
}

// Counts the member-management controls in each member's row.
function controls(page) {
  return page.$$eval('table#members tr[data-user-id]', (rows) => Object.fromEntries(rows.map((r) => [r.dataset.userId, {
    role: r.querySelectorAll('select[name="role"]').length,
    remove: r.querySelectorAll('button[data-action="remove"]').length,
  }])));
}

export async function rolesAndCsrf(t) {
  const server = await t.server();
  const alice = await signUp(server, 'Alice');
  const bob = await signUp(server, 'Bob');
  const carol = await signUp(server, 'Carol');
  const team = await createTeam(server, alice, 'Platform Team');
  await addToTeam(server, alice, team, bob, 'member');
  await addToTeam(server, alice, team, carol, 'viewer');
  const before = await roles(server, alice, team);

  const pages = {};
  for (const [who, user] of [['owner', alice], ['member', bob], ['viewer', carol]]) {
    t.step(`opening the members page as the ${who}`);
    const context = await t.context();
    await signInContext(context, server, user);
    const forged = (m) => /status of 403/.test(m.text()) && /\/api\/v1\/teams\//.test(m.location()?.url ?? '');
    pages[who] = await t.page(context, who === 'member' ? forged : undefined);
    await openPage(pages[who], server, team.ws, 'members', 'table#members tr[data-user-id]');
    await pages[who].waitForFunction(() => document.querySelectorAll('table#members tr[data-user-id]').length === 3);
  }

  t.step('the owner gets the controls, the member and the viewer do not');
  const owner = await controls(pages.owner);
  for (const u of [bob, carol]) {
    assert.deepEqual(owner[u.id], { role: 1, remove: 1 }, `owner's view of ${u.name}'s row: ${JSON.stringify(owner[u.id])}`);
  }
  for (const who of ['member', 'viewer']) {
    const c = await controls(pages[who]);
    for (const [id, n] of Object.entries(c)) {
      assert.deepEqual(n, { role: 0, remove: 0 }, `the ${who} is offered controls on row ${id}`);
    }
  }

  t.step('the memory page offers edit and delete by role');
  const memory = await addMemory(server, alice, team.ws, { title: 'Rotate the staging keys' });
  const want = { owner: { edit: 1, del: 1 }, member: { edit: 1, del: 0 }, viewer: { edit: 0, del: 0 } };
  for (const who of Object.keys(want)) {
    await openPage(pages[who], server, team.ws, `memories/${memory.id}`, `article#memory[data-memory-id="${memory.id}"]`);
    if (want[who].edit) await pages[who].waitForSelector('#edit-memory');
    if (want[who].del) await pages[who].waitForSelector('#delete-memory');
    const got = { edit: await pages[who].locator('#edit-memory').count(), del: await pages[who].locator('#delete-memory').count() };
    assert.deepEqual(got, want[who], `the ${who}'s memory page offers ${JSON.stringify(got)}`);
  }

  t.step('a member forging a role change and a removal from the page');
  const forge = await pages.member.evaluate(async ([teamId, carolId]) => {
    const url = `/api/v1/teams/${teamId}/members/${carolId}`;
    const patch = await fetch(url, { method: 'PATCH', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ role: 'admin' }) });
    const del = await fetch(url, { method: 'DELETE' });
    return { patch: [patch.status, await patch.json()], del: [del.status, await del.json()] };
  }, [team.id, carol.id]);
  assert.equal(forge.patch[0], 403, `forged PATCH: ${JSON.stringify(forge.patch)}`);
  assert.equal(forge.patch[1]?.error?.code, 'forbidden', `forged PATCH: ${JSON.stringify(forge.patch)}`);
  assert.equal(forge.del[0], 403, `forged DELETE: ${JSON.stringify(forge.del)}`);
  assert.deepEqual(await roles(server, alice, team), before, 'a forged request changed the members');

  t.step('another origin posting with the owner\'s cookie');
  const target = `${server.base}/api/v1/workspaces/${team.ws}/memories`;
  // text/plain form: the body becomes {"title":"CSRF form","summary":"=x"}, valid JSON.
  const evil = await otherOriginServer({
    '/form': `<!doctype html><title>x</title><form method="post" enctype="text/plain" action="${target}">
      <input type="hidden" name='{"title":"CSRF form","summary":"' value='x"}'><button>win</button></form>`,
    '/blank': '<!doctype html><title>x</title>',
  });
  t.defer(() => evil.close());
  const evilPage = await pages.owner.context().newPage(); // not watched: not our page
  await evilPage.goto(`${evil.base}/form`);
  const [formResp] = await Promise.all([evilPage.waitForResponse(target), evilPage.click('button')]);
  const formCookie = (await formResp.request().allHeaders()).cookie ?? '';
  assert.match(formCookie, /mgteam_session=/, 'the browser did not send the cookie (then this test proves nothing)');
  assert.equal(formResp.status(), 403, `cross-origin form POST: ${formResp.status()}`);
  assert.equal((await formResp.json())?.error?.code, 'cross_site_request');

  await evilPage.goto(`${evil.base}/blank`);
  const [fetchResp] = await Promise.all([
    evilPage.waitForResponse(target),
    evilPage.evaluate((url) => fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include',
      headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ title: 'CSRF fetch' }) }).then(() => 0), target),
  ]);
  // (playwright reports neither the cookie nor the body of a no-cors fetch;
  // the form above showed the browser sends the cookie from this origin)
  assert.equal(fetchResp.status(), 403, `cross-origin no-cors fetch: ${fetchResp.status()}`);
  await evilPage.close();

  t.step('raw requests carrying the session cookie');
  const cookie = await sessionCookie(pages.owner.context(), server);
  const post = (title, headers) => server.api('POST', `/api/v1/workspaces/${team.ws}/memories`,
    { cookie, headers, body: { title } });
  for (const [what, headers] of [['Origin: http://evil.example', { origin: 'http://evil.example' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site and a foreign Origin', { 'sec-fetch-site': 'same-site', origin: evil.base }],
    ['neither Origin nor Sec-Fetch-Site', {}]]) {
    const r = await post(`CSRF raw (${what})`, headers);
    assert.equal(r.status, 403, `cookie + ${what}: ${r.status} ${r.text}`);
    assert.equal(r.body?.error?.code, 'cross_site_request', `cookie + ${what}: ${r.text}`);
  }
  const patch = await server.api('PATCH', `/api/v1/teams/${team.id}/members/${carol.id}`,
    { cookie, headers: { origin: 'http://evil.example' }, body: { role: 'admin' } });
  assert.equal(patch.status, 403, `owner's cookie + foreign Origin, role change: ${patch.status} ${patch.text}`);
  assert.deepEqual(await roles(server, alice, team), before, 'a cross-site request changed the members');
  assert.equal((await post('Same-origin control', { origin: server.base })).status, 201,
    'the cookie with the server\'s own Origin does not work (the refusals above prove nothing)');
  assert.equal((await post('Same-origin control 2', { 'sec-fetch-site': 'same-origin' })).status, 201,
    'the cookie with Sec-Fetch-Site: same-origin does not work');

  const titles = (await listMemories(server, alice, team.ws)).map((m) => m.title);
  assert.deepEqual(titles.filter((x) => x.startsWith('CSRF')), [], 'a cross-site request created a memory');
  assert.equal(titles.filter((x) => x.startsWith('Same-origin control')).length, 2);
}

export async function joinNewUser(t) {
  const server = await t.server();
  const alice = await signUp(server, 'Alice');
  const team = await createTeam(server, alice, 'Platform Team');
  const email = `newcomer.${process.pid}@example.com`;
  const inv = await invite(server, alice, team, email, 'member');
  assert.ok(inv.accept_url?.startsWith(`${server.base}/join/`), `accept_url: ${inv.accept_url}`);

  const context = await t.context();
  const page = await t.page(context, isSignedOutProbe);
  await page.goto(inv.accept_url);
  const join = page.locator('section#join');
  await join.waitFor();
  await page.waitForFunction(([team, inviter]) => {
    const text = document.querySelector('section#join')?.textContent ?? '';
    return text.includes(team) && text.includes(inviter);
  }, [team.name, alice.name]).catch(async () => {
    throw new Error(`section#join does not name the team and the inviter: ${await join.textContent()}`);
  });
  const field = page.locator('form#signup input[name="email"]');
  assert.equal(await field.inputValue(), email, 'the invited email is not prefilled');
  assert.equal(await field.evaluate((e) => e.readOnly), true, 'the invited email is not readonly');

  t.step('signing up from the invitation');
  await page.fill('form#signup input[name="name"]', 'Newcomer');
  await page.fill('form#signup input[name="password"]', 'a-long-enough-password');
  await submit(page, 'form#signup');
  await page.waitForURL((u) => u.pathname === '/' && u.hash === `#/w/${team.ws}/feed`);
  await waitFeedRow(page, 'Newcomer');
  await waitState(page, 'live');
  await page.waitForSelector(`nav#workspaces a[data-workspace-id="${team.ws}"]`);

  const members = await server.call(200, 'GET', `/api/v1/teams/${team.id}/members`, { token: alice.token });
  const me = members.members.find((m) => m.email === email);
  assert.equal(me?.role, 'member', `members after the join: ${JSON.stringify(members.members)}`);
  assert.equal(me?.name, 'Newcomer');
  const again = await server.api('GET', `/api/v1/invitations/${inv.token}`);
  assert.equal(again.status, 409, `the used invitation answers ${again.status} ${again.text}`);
}
