/**
 * Two phones on the prompt list, in real headless Chromium against the real server: one
 * deletes, the other then saves an edit from its out-of-date list. Ids are positions, so
 * without If-Match that edit would land on another prompt.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { phoneSession, type WatchedPage } from './support/browser.js';

const TOKEN = 'prompt-conflict-test-token-0123456789abcdef';
const STALE_MESSAGE = 'This prompt was changed or removed on another device. The list is reloaded: check it and try again.';

describe('two phones editing the prompt list', () => {
  const session = phoneSession();
  let server: TestServer;
  const open = (): Promise<WatchedPage> => session.open(server.url, { storage: { 'aiframe.token': TOKEN } });

  before(async () => {
    server = session.keep(await startTestServer({ environment: { AIFRAME_ADMIN_TOKEN: TOKEN } }));
  });

  test('phone 1 deletes a prompt; phone 2 saves an edit of its stale row: refused, told why, list reloaded', async () => {
    await server.prompts.add({ prompt: 'a red boat' });
    await server.prompts.add({ prompt: 'a green hill' });
    const one = await open();
    const two = await open();
    for (const { page } of [one, two]) await page.locator('#prompt-list li', { hasText: 'a green hill' }).waitFor();

    // Phone 1 deletes the boat: the hill moves from number 3 to number 2.
    const boat = one.page.locator('#prompt-list li', { hasText: 'a red boat' });
    await boat.getByRole('button', { name: /^Delete prompt/ }).click();
    await boat.waitFor({ state: 'detached' });
    assert.deepEqual(server.prompts.list().map((entry) => entry.prompt), ['test', 'a green hill']);

    // Phone 2 still shows the boat and edits the hill under its old number.
    const hill = two.page.locator('#prompt-list li', { hasText: 'a green hill' });
    assert.equal(await hill.getAttribute('data-id'), '3', 'phone 2 has the old list');
    await hill.getByRole('button', { name: /^Edit prompt/ }).click();
    const editor = two.page.locator('#prompt-list li form');
    await editor.getByLabel('Prompt', { exact: true }).fill('a brown hill');
    await editor.getByRole('button', { name: 'Save' }).click();

    await two.page.locator('#prompts-error:not([hidden])').waitFor();
    assert.equal(await two.page.locator('#prompts-error').textContent(), STALE_MESSAGE);
    await two.page.locator('#prompt-list li', { hasText: 'a red boat' }).waitFor({ state: 'detached' });
    assert.deepEqual(
      await two.page.locator('#prompt-list li p.prompt').allTextContents(),
      ['test', 'a green hill'],
      'the reloaded list, the edit not applied',
    );
    assert.equal(await two.page.locator('#prompt-list li form').count(), 0, 'the editor closed with the reload');
    assert.deepEqual(server.prompts.list().map((entry) => entry.prompt), ['test', 'a green hill'], 'nothing changed on the server');

    // From the reloaded list the same edit goes through, and the message goes away.
    await two.page.locator('#prompt-list li', { hasText: 'a green hill' }).getByRole('button', { name: /^Edit prompt/ }).click();
    await editor.getByLabel('Prompt', { exact: true }).fill('a brown hill');
    await editor.getByRole('button', { name: 'Save' }).click();
    await two.page.locator('#prompt-list li', { hasText: 'a brown hill' }).waitFor();
    assert.equal(await two.page.locator('#prompts-error').isHidden(), true);
    assert.deepEqual(server.prompts.list().map((entry) => entry.prompt), ['test', 'a brown hill']);

    assert.deepEqual(one.problems, []);
    assert.deepEqual(two.problemsExcept(412), []);
    assert.ok(two.problems.some((problem) => problem.startsWith('HTTP 412 PUT')), `the refusal was a 412: ${two.problems.join('; ')}`);
  });
});
