/**
 * Problems the server reports (disk full, a prompts file set aside) are the first thing on
 * the phone page, in the server's words; with none, the banner is not there at all.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../support/test-server.js';
import { phoneSession } from './support/browser.js';

describe('the phone page shows the server notices', () => {
  const session = phoneSession();

  test('a notice is shown as an alert above the frame; none, no banner', async () => {
    const server = session.keep(await startTestServer());
    const quiet = await session.open(server.url);
    await quiet.page.locator('body[data-ready="true"]').waitFor();
    assert.equal(await quiet.page.locator('#notices').isVisible(), false);

    // The same board the server's own modules raise problems on.
    server.notices.raise('storage:/srv/aiframe/data', 'cannot write /srv/aiframe/data/stats.json: the disk is full (ENOSPC); free some space');
    const { page } = await session.open(server.url);
    await page.locator('body[data-ready="true"]').waitFor();
    const banner = page.locator('#notices [role="alert"]');
    assert.equal(await banner.count(), 1);
    assert.match((await banner.textContent()) ?? '', /the disk is full \(ENOSPC\)/);
    const order = await page.locator('main > section').evaluateAll((sections: { id: string }[]) => sections.map((section) => section.id));
    assert.equal(order[0], 'notices', 'first on the page');
  });
});
