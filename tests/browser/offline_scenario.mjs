// Offline-edit scenario of the dashboard's browser tests:
//
// offline-outbox: with the browser offline (playwright's setOffline, which
//   also makes navigator.onLine false) the page says "offline"; a memory
//   created and another edited in the page are queued in the IndexedDB
//   outbox and shown pending (the edited memory's page shows the queued
//   values), and reach nothing on the server. A reload
//   while still offline is served by the service worker and the queue is
//   still there. Back online, both writes are sent: the server holds the
//   created memory exactly once (one memory_created event) and the edit
//   applied once (version 1 -> 2, one memory_updated event). This is what
//   makes the dashboard usable on a train, without ever doubling a write.
import assert from 'node:assert/strict';
import { addMemory, createTeam, listMemories, signInContext, signUp } from './harness.mjs';
import { idbOutboxCount, isNetworkFailure, openPage, submit, waitOutbox, waitServiceWorker, waitState } from './ui.mjs';

// Requests the server logged (at --log-level debug) since log offset `from`,
// but the change stream's: a stream is logged when it ends, and the one the
// page held before going offline ends after that.
function requestsSince(server, from) {
  return server.log().slice(from).split('\n')
    .filter((l) => / debug (GET|POST|PUT|PATCH|DELETE|HEAD) /.test(l) && !l.includes('/api/v1/sync/stream'));
}

async function events(server, user, ws) {
  const r = await server.call(200, 'GET', `/api/v1/workspaces/${ws}/events?since=0&limit=1000`, { token: user.token });
  return r.events;
}

export async function offlineOutbox(t) {
  const server = await t.server();
  const alice = await signUp(server, 'Alice');
  const team = await createTeam(server, alice, 'Platform Team');
  const edited = await addMemory(server, alice, team.ws, { title: 'Deploy checklist', content: 'Run the migrations first.' });
  assert.equal(edited.version, 1);
  const newTitle = 'Written on the train';
  const editedTitle = 'Deploy checklist (edited offline)';

  const context = await t.context();
  await signInContext(context, server, alice);
  const page = await t.page(context, isNetworkFailure);
  await openPage(page, server, team.ws, `memories/${edited.id}`, `article#memory[data-memory-id="${edited.id}"]`);
  await waitState(page, 'live');
  await waitServiceWorker(page);

  t.step('opening the edit form, then going offline');
  await page.click('#edit-memory');
  await page.waitForSelector('form#memory-form');
  assert.equal(await page.inputValue('form#memory-form input[name="title"]'), 'Deploy checklist',
    'the edit form is not filled with the memory');
  await context.setOffline(true);
  await waitState(page, 'offline');
  let mark = server.log().length;

  t.step('editing offline');
  await page.fill('form#memory-form input[name="title"]', editedTitle);
  await submit(page, 'form#memory-form');
  await waitOutbox(page, 1, 'pending');
  // The edit shows where it was made: the memory's page (opened before the
  // network went, shown from what the page read then) with the queued values.
  await page.waitForSelector(`article#memory[data-memory-id="${edited.id}"][data-pending="edit"]`);
  assert.equal((await page.textContent('article#memory h1')).trim(), editedTitle,
    'the memory page does not show the edit queued offline');

  t.step('creating offline');
  await page.click('a[data-nav="memories"]');
  await page.click('#new-memory');
  await page.waitForSelector('form#memory-form');
  assert.equal(await page.inputValue('form#memory-form input[name="title"]'), '', 'the new-memory form is not empty');
  await page.fill('form#memory-form input[name="title"]', newTitle);
  await page.fill('form#memory-form textarea[name="content"]', 'Queued while offline, sent once when back.');
  await submit(page, 'form#memory-form');
  await waitOutbox(page, 2, 'pending');
  if (!(await page.isVisible('ul#memories'))) await page.click('a[data-nav="memories"]');
  await page.waitForSelector(`ul#memories > li[data-pending="true"]:has-text("${newTitle}")`);
  assert.equal(await idbOutboxCount(page), 2, 'the IndexedDB outbox does not hold the two writes');

  const onServer = async () => {
    const all = await listMemories(server, alice, team.ws);
    return { created: all.filter((m) => m.title === newTitle), edited: all.find((m) => m.id === edited.id) };
  };
  assert.deepEqual(requestsSince(server, mark), [], 'the offline page reached the server');
  let s = await onServer();
  assert.equal(s.created.length, 0, 'the offline create reached the server while offline');
  assert.equal(s.edited.version, 1, 'the offline edit reached the server while offline');

  t.step('reloading while offline');
  // The offline emulation must reach the service worker too, or a
  // network-first worker would fetch the page from the (running) server.
  const [worker] = context.serviceWorkers();
  assert.ok(worker, 'playwright sees no service worker');
  assert.equal(await worker.evaluate(() => navigator.onLine), false, 'the service worker is not offline');
  mark = server.log().length;
  const response = await page.reload();
  assert.ok(response?.fromServiceWorker(), 'the offline reload was not answered by the service worker');
  await waitState(page, 'offline');
  await waitOutbox(page, 2, 'pending');
  assert.equal(await idbOutboxCount(page), 2, 'the IndexedDB outbox lost writes in the reload');
  assert.deepEqual(requestsSince(server, mark), [], 'the offline reload reached the server');
  s = await onServer();
  assert.equal(s.created.length, 0, 'the offline create reached the server during the offline reload');
  assert.equal(s.edited.version, 1, 'the offline edit reached the server during the offline reload');

  t.step('back online');
  await context.setOffline(false);
  await waitOutbox(page, 0, 'pending', 15000);
  await waitState(page, 'live', 15000);
  assert.equal(await idbOutboxCount(page), 0, 'the IndexedDB outbox still holds sent writes');

  s = await onServer();
  assert.equal(s.created.length, 1, `the created memory is on the server ${s.created.length} times`);
  assert.equal(s.edited.version, 2, `the edited memory is at version ${s.edited.version}, not 2`);
  assert.equal(s.edited.title, editedTitle);
  const log = await events(server, alice, team.ws);
  const creates = log.filter((e) => e.type === 'memory_created' && e.memory?.title === newTitle);
  const updates = log.filter((e) => e.type === 'memory_updated' && e.memory?.id === edited.id);
  assert.equal(creates.length, 1, `${creates.length} memory_created events for the offline create`);
  assert.equal(updates.length, 1, `${updates.length} memory_updated events for the offline edit`);
  await page.click('a[data-nav="memories"]');
  await page.waitForSelector(`ul#memories > li[data-memory-id="${s.created[0].id}"]:not([data-pending="true"])`);
}
