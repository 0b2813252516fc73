// Live-feed scenarios of the dashboard's browser tests:
//
// cli-to-feed: sign in through the page (a wrong password first: refused
//   with an alert, no cookie), pick the team, and a memory the real `mgteam`
//   CLI writes from another "machine" shows up in the feed within 1 s of the
//   command's exit. This is the promise: the team sees it live.
//   It ends with "sign out everywhere" from a second browser: the first
//   page turns "signed out" and shows the sign-in form again.
// restart-resume: the server is stopped (SIGTERM) under the open page, which
//   says "reconnecting"; restarted on the same port and data, with writes
//   landing right after the restart (while the page reconnects), the page is
//   live again without a reload and its feed holds every seq exactly once,
//   contiguous: the stream's resume (Last-Event-ID / ?since) leaves no gap
//   and repeats nothing.
// dead-stream: the page's stream goes silent without closing (a proxy stops
//   forwarding it); a write lands meanwhile. The page's watch notices that
//   the server has a change its stream never delivered, reconnects, and the
//   row appears: "Live" never stays up over a dead stream for long.
import assert from 'node:assert/strict';
import { addMemory, addToTeam, createTeam, headSeq, isSignedOutProbe, Machine, signInContext, signUp, silentProxy } from './harness.mjs';
import { checkSeqs, feedSeqs, fillSignIn, isNetworkFailure, openPage, waitFeedRow, waitState } from './ui.mjs';

export async function cliToFeed(t) {
  const server = await t.server();
  const alice = await signUp(server, 'Alice');
  const bob = await signUp(server, 'Bob');
  const team = await createTeam(server, alice, 'Platform Team');
  await addToTeam(server, alice, team, bob, 'member');

  const context = await t.context();
  const wrongPassword = (m) => /status of 401/.test(m.text()) && /\/api\/v1\/auth\/session$/.test(m.location()?.url ?? '');
  const page = await t.page(context, (m) => isSignedOutProbe(m) || wrongPassword(m));
  await page.goto(`${server.base}/`);
  await page.waitForSelector('form#signin');
  await waitState(page, 'signed-out');

  t.step('a wrong password is refused with an alert');
  const alerts = () => page.$$eval('[role="alert"]', (es) => es.map((e) => e.textContent.trim()).filter(Boolean));
  assert.deepEqual(await alerts(), [], 'an alert is shown before signing in');
  await fillSignIn(page, alice.email, 'not-the-password');
  await page.waitForFunction(() => [...document.querySelectorAll('[role="alert"]')].some((e) => e.textContent.trim()));
  t.note(`alert: ${(await alerts()).join(' | ')}`);
  assert.equal((await context.cookies()).filter((c) => c.name === 'mgteam_session').length, 0,
    'a refused sign-in set a session cookie');
  assert.ok(await page.isVisible('form#signin'), 'the sign-in form went away after a refused sign-in');

  t.step('signing in through the form');
  await fillSignIn(page, alice.email, alice.password);
  const teamLink = `nav#workspaces a[data-workspace-id="${team.ws}"]`;
  await page.waitForSelector(teamLink);
  const cookie = (await context.cookies()).find((c) => c.name === 'mgteam_session');
  assert.ok(cookie, 'no mgteam_session cookie after signing in');
  assert.equal(cookie.httpOnly, true, 'the session cookie is not HttpOnly');
  assert.equal(cookie.sameSite, 'Strict', 'the session cookie is not SameSite=Strict');
  assert.equal(cookie.path, '/');
  assert.ok(!(await page.evaluate(() => document.cookie)).includes('mgteam_session'), 'the page can read the session cookie');
  assert.match(await page.textContent(teamLink), /Platform Team/);

  t.step('opening the team feed');
  await page.click(teamLink);
  await page.click('a[data-nav="feed"]');
  let head = await headSeq(server, alice, team.ws);
  await page.waitForSelector(`ol#feed > li[data-seq="${head}"]`);
  await waitState(page, 'live');

  t.step('the CLI on another machine writes a memory');
  const title = 'Fixed Redis timeout with a 5 s connect retry';
  await page.evaluate((title) => {
    window.__appearedAt = 0;
    const check = () => {
      if (window.__appearedAt) return;
      const rows = document.querySelectorAll('ol#feed > li');
      if ([...rows].some((li) => li.textContent.includes(title))) window.__appearedAt = Date.now();
    };
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true, characterData: true });
    check();
  }, title);
  assert.equal(await page.evaluate(() => window.__appearedAt), 0, 'the row was there before the CLI ran');
  const machine = new Machine(t.env.cli, server, bob);
  const r = await machine.run(['memory', 'add', title, '--type', 'solution', '--tag', 'redis', '--wait', '-q',
    '-w', team.slug]);
  assert.equal(r.code, 0, `mgteam memory add failed: ${r.err}`);
  const id = r.out.trim();
  await page.waitForFunction(() => window.__appearedAt > 0, null, { timeout: 5000 });
  const delay = (await page.evaluate(() => window.__appearedAt)) - r.exitedAt;
  t.note(`row appeared ${delay} ms after the CLI exited`);
  assert.ok(delay < 1000, `the CLI's memory took ${delay} ms to appear in the feed (limit 1000 ms)`);

  head = await headSeq(server, alice, team.ws);
  const row = page.locator(`ol#feed > li[data-seq="${head}"]`);
  assert.equal(await row.count(), 1, `no feed row with data-seq=${head} (the CLI's write)`);
  const text = await row.textContent();
  assert.ok(text.includes(title) && text.includes('Bob'), `the feed row does not name Bob and the title: ${text}`);
  assert.ok(await row.locator('a').evaluateAll((as, id) => as.some((a) => a.getAttribute('href')?.includes(id)), id),
    `the feed row has no link to memory ${id}`);
  assert.equal((await feedSeqs(page))[0], head, 'the newest entry is not first');

  t.step('signing out everywhere from another browser');
  const other = await t.context();
  await signInContext(other, server, alice);
  const otherPage = await t.page(other, isSignedOutProbe);
  await openPage(otherPage, server, team.ws, 'feed', `ol#feed > li[data-seq="${head}"]`);
  // It asks first; dismissing sends nothing, accepting signs out: one
  // request in all, counted once the sign-out has landed.
  let signOuts = 0;
  otherPage.on('request', (req) => {
    if (req.method() === 'DELETE' && req.url().endsWith('/api/v1/auth/sessions')) signOuts++;
  });
  otherPage.once('dialog', (d) => d.dismiss());
  await otherPage.click('#signout-all');
  otherPage.once('dialog', (d) => d.accept());
  await otherPage.click('#signout-all');
  await otherPage.waitForSelector('form#signin');
  assert.equal(signOuts, 1, 'dismissing the confirmation still sent a sign-out');
  await waitState(page, 'signed-out');
  await page.waitForSelector('form#signin');
  const me = await server.api('GET', '/api/v1/me', { cookie: `mgteam_session=${cookie.value}` });
  assert.equal(me.status, 401, `the first browser's session still works after signing out everywhere: ${me.status}`);
}

// Alice's feed of `ws` open and live in a new browser, reaching the server
// at `via` (the server itself, or a proxy in front of it); a network
// failure on the page is what these scenarios cause on purpose.
async function liveFeed(t, server, via, alice, ws) {
  const context = await t.context();
  await signInContext(context, via, alice);
  const page = await t.page(context, isNetworkFailure);
  const head = await headSeq(server, alice, ws);
  await openPage(page, via, ws, 'feed', `ol#feed > li[data-seq="${head}"]`);
  await waitState(page, 'live');
  return { page };
}

export async function restartResume(t) {
  const server = await t.server();
  const alice = await signUp(server, 'Alice');
  const team = await createTeam(server, alice, 'Platform Team');
  await addMemory(server, alice, team.ws, { title: 'Before the restart 1' });
  await addMemory(server, alice, team.ws, { title: 'Before the restart 2' });

  const { page } = await liveFeed(t, server, server, alice, team.ws);
  let head = await headSeq(server, alice, team.ws);
  await page.evaluate(() => { window.__sameDocument = true; });

  const seen = head; // what the page had when the server went away

  t.step('stopping the server');
  // The stream requests that succeed from now on: the first must resume
  // from the last seq the page saw (?since= or Last-Event-ID), so the
  // writes below reach the page through the server's replay.
  const resumed = [];
  page.on('response', (r) => {
    if (r.url().includes('/api/v1/sync/stream') && r.status() === 200) {
      resumed.push({ since: new URL(r.url()).searchParams.get('since'), lastEventId: r.request().headers()['last-event-id'] });
    }
  });
  await server.stop();
  await waitState(page, 'reconnecting');

  t.step('restarting it and writing while the page reconnects');
  await server.restart();
  for (let i = 1; i <= 3; i++) await addMemory(server, alice, team.ws, { title: `After the restart ${i}` });
  await waitState(page, 'live', 20000);
  assert.ok(resumed.length >= 1, 'no stream request succeeded after the restart');
  const cursor = resumed[0].lastEventId ?? resumed[0].since;
  assert.equal(Number(cursor), seen, `the page resumed the stream from ${JSON.stringify(resumed[0])}, not seq ${seen}`);
  for (let i = 4; i <= 5; i++) await addMemory(server, alice, team.ws, { title: `After the restart ${i}` });
  head = await headSeq(server, alice, team.ws);
  await page.waitForSelector(`ol#feed > li[data-seq="${head}"]`);
  await waitFeedRow(page, 'After the restart 5');

  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page reloaded to reconnect');
  const problem = checkSeqs(await feedSeqs(page), 1, head);
  assert.equal(problem, '', `the feed after the restart: ${problem}`);
}

export async function deadStream(t) {
  const server = await t.server();
  const alice = await signUp(server, 'Alice');
  const team = await createTeam(server, alice, 'Platform Team');
  await addMemory(server, alice, team.ws, { title: 'Before the silence' });
  const proxy = await silentProxy(server);
  t.defer(() => proxy.close());

  const { page } = await liveFeed(t, server, proxy, alice, team.ws);

  t.step('the stream goes silent, a change lands');
  assert.equal(proxy.freezeStreams(), 1, 'the page had not exactly one stream open');
  await addMemory(server, alice, team.ws, { title: 'Written while the stream was dead' });
  const written = await headSeq(server, alice, team.ws);
  const frozenAt = Date.now();
  await page.waitForSelector(`ol#feed > li[data-seq="${written}"]`, { timeout: 60000 });
  t.note(`the row arrived ${Date.now() - frozenAt} ms after the stream went silent`);
  await waitState(page, 'live');
  checkSeqs(await feedSeqs(page), 1, written);
}
