// Whole-page scenarios of the dashboard's browser tests. Both walk the same
// tour of every page (sign-in, feed, memories list, memory detail, memory
// form, members, join; the feed again at phone width) over a team with
// some content:
//
// accessibility: axe-core (tests/js/node_modules/axe-core) runs on each page
//   and finds no `serious` or `critical` violation. axe is injected with
//   page.evaluate, which the page's CSP does not govern (a script tag would
//   be refused, as it should be). Every violation is printed on failure.
// screenshots: each page is saved as OUT/<page>.png (1280x800, full page)
//   and the feed also at 375x740 (OUT/feed-phone.png), for a human to review.
//   What it asserts is that every page renders with its contract hooks and
//   without a console error or CSP violation.
// Both also check the headers of the pages (/ and /join/TOKEN): the CSP of
// the contract, X-Frame-Options, Referrer-Policy, nosniff.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { addMemory, addToTeam, createTeam, headSeq, invite, isSignedOutProbe, signInContext, signUp } from './harness.mjs';
import { checkPageHeaders, openPage, waitState } from './ui.mjs';

const AXE = fs.readFileSync(new URL('../js/node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

// Builds the team the tour shows, then calls visit(name, page) on each page.
async function tour(t, visit) {
  const server = await t.server();
  const alice = await signUp(server, 'Alice');
  const bob = await signUp(server, 'Bob');
  const team = await createTeam(server, alice, 'Platform Team');
  await addToTeam(server, alice, team, bob, 'member');
  const fix = await addMemory(server, alice, team.ws, { title: 'Fixed Redis timeout with a 5 s connect retry',
    content: 'Retry the connect for 5 s with jitter; cap the pool at 50.', tags: ['redis', 'timeout'], importance: 0.9 });
  const err = await addMemory(server, bob, team.ws, { title: 'Redis connection timeout under load', type: 'error',
    content: 'ConnectionError: Timeout connecting to redis:6379 after 1.0s', tags: ['redis'] });
  await server.call(201, 'POST', `/api/v1/workspaces/${team.ws}/relationships`, { token: bob.token,
    body: { from_memory_id: fix.id, to_memory_id: err.id, type: 'SOLVES' } });
  await server.call(200, 'PATCH', `/api/v1/workspaces/${team.ws}/memories/${fix.id}`, { token: bob.token,
    body: { tags: ['redis', 'timeout', 'production'] } });
  await invite(server, alice, team, 'carol@example.com', 'viewer');
  const joinLink = (await invite(server, alice, team, 'dave@example.com', 'member')).accept_url;

  const anon = await t.context();
  const signin = await t.page(anon, isSignedOutProbe);
  await checkPageHeaders(await signin.goto(`${server.base}/`), 'the sign-in page');
  await signin.waitForSelector('form#signin');
  await visit('signin', signin);

  const context = await t.context();
  await signInContext(context, server, alice);
  const page = await t.page(context);
  const head = await headSeq(server, alice, team.ws);
  await openPage(page, server, team.ws, 'feed', `ol#feed > li[data-seq="${head}"]`);
  await waitState(page, 'live');
  await visit('feed', page);

  await openPage(page, server, team.ws, 'memories', `ul#memories > li[data-memory-id="${err.id}"]`);
  await page.waitForSelector(`ul#memories > li[data-memory-id="${fix.id}"]`);
  await visit('memories', page);

  await openPage(page, server, team.ws, `memories/${fix.id}`, `article#memory[data-memory-id="${fix.id}"]`);
  await page.waitForSelector(`ul#relationships > li a[data-memory-id="${err.id}"]`);
  await visit('memory', page);

  await openPage(page, server, team.ws, 'memories', 'ul#memories > li[data-memory-id]');
  await page.click('#new-memory');
  await page.waitForSelector('form#memory-form');
  await visit('memory-form', page);

  await openPage(page, server, team.ws, 'members', 'table#members tr[data-user-id]');
  await page.waitForSelector('ul#invitations > li[data-invitation-id]');
  await page.waitForFunction(() => document.querySelectorAll('table#members tr[data-user-id]').length === 2);
  await visit('members', page);

  const joinContext = await t.context();
  const join = await t.page(joinContext, isSignedOutProbe);
  await checkPageHeaders(await join.goto(joinLink), 'the join page');
  await join.waitForSelector('section#join form#signup');
  await visit('join', join);

  await openPage(page, server, team.ws, 'feed', 'ol#feed > li[data-seq]');
  await page.setViewportSize({ width: 375, height: 740 });
  await waitState(page, 'live');
  await visit('feed-phone', page);
}

export async function accessibility(t) {
  const found = [];
  let pages = 0;
  await tour(t, async (name, page) => {
    await page.evaluate(AXE);
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    pages++;
    assert.ok(result.passes.length > 10, `axe checked almost nothing on ${name} (${result.passes.length} rules passed)`);
    t.note(`${name}: ${result.passes.length} axe rules passed, ${result.violations.length} violated`);
    for (const v of result.violations) {
      const line = `${name}: [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${v.nodes.slice(0, 5)
        .map((n) => `    ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ')}`).join('\n')}`;
      found.push({ serious: ['serious', 'critical'].includes(v.impact), line });
    }
  });
  assert.equal(pages, 8);
  for (const f of found.filter((x) => !x.serious)) t.note(`(not failing) ${f.line}`);
  const serious = found.filter((x) => x.serious).map((x) => x.line);
  assert.equal(serious.length, 0, `axe found ${serious.length} serious/critical violation(s):\n${serious.join('\n')}`);
}

export async function screenshots(t) {
  const saved = [];
  await tour(t, async (name, page) => {
    const file = path.join(t.env.out, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(fs.statSync(file).size > 1000, `${file} is (nearly) empty`);
    saved.push(file);
  });
  t.note(`saved ${saved.map((f) => path.basename(f)).join(', ')} in ${t.env.out}`);
  assert.equal(saved.length, 8);
}
