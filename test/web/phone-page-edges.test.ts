/**
 * The phone page at the edges, in real headless Chromium against the real server: the
 * narrowest common phone, a token typed in another alphabet, a picture that cannot be
 * decoded, and the server restarting while a generation is followed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { samplePicture } from '../support/fake-http-kit.js';
import { SteppedProvider } from '../support/test-providers.js';
import { startAndWait, startTestServer, type TestServer } from '../support/test-server.js';
import { phoneSession, screenshot } from './support/browser.js';
import { startRestartableServer } from './support/restartable-server.js';

const TOKEN = 'phone-page-edges-token-0123456789abcdef';

// Globals of the functions that run inside the page (this project compiles without the DOM library).
declare const document: any;
declare const window: any;

describe('the phone page at the edges', () => {
  const session = phoneSession();
  const serve = async (): Promise<TestServer> => session.keep(await startTestServer({ environment: { AIFRAME_ADMIN_TOKEN: TOKEN } }));
  const open = session.open;

  test('at 360 px wide, in both languages, every section link is on screen and nothing scrolls sideways', async () => {
    const server = await serve();
    const id = await startAndWait(server.url, { type: 'auto' });
    await (await fetch(`${server.url}/operation/result/${id}`)).arrayBuffer();
    for (const locale of ['en-US', 'ru-RU']) {
      const watched = await open(server.url, { locale });
      const { page } = watched;
      await page.setViewportSize({ width: 360, height: 740 });
      const layout = await page.evaluate(() => ({
        scrollWidth: document.scrollingElement.scrollWidth,
        links: [...document.querySelectorAll('nav a')].map((link: any) => {
          const box = link.getBoundingClientRect();
          return { text: link.textContent, left: box.left, right: box.right };
        }),
      }));
      assert.ok(layout.scrollWidth <= 360, `${locale}: the page is ${layout.scrollWidth} px wide`);
      assert.equal(layout.links.length, 5);
      for (const link of layout.links) assert.ok(link.left >= 0 && link.right <= 360, `${locale}: "${link.text}" is cut off at ${link.left}..${link.right}`);
      // A tapped section link scrolls its heading into view below the sticky header, not under it.
      await page.locator('nav a[href="#gallery"]').click();
      // The page does not ask for smooth scrolling: the jump is done once scrollY moved.
      await page.waitForFunction(() => window.scrollY > 0);
      const [headerBottom, headingTop] = await page.evaluate(() => [
        document.querySelector('header').getBoundingClientRect().bottom,
        document.getElementById('gallery-title').getBoundingClientRect().top,
      ]);
      assert.ok(headingTop >= headerBottom, `${locale}: the heading (top ${headingTop}) hides under the header (bottom ${headerBottom})`);
      await screenshot(page, `narrow-${locale}`);
      assert.deepEqual(watched.problems, []);
    }
  });

  test('markup in prompts, provider reasons, notes and picture metadata is shown as text, never run', async () => {
    const server = await serve();
    const payload = '<img src=x onerror="window.__xss=1"><b>bold</b>';
    await server.prompts.add({ prompt: `a prompt ${payload}`, negative: `a negative ${payload}` });
    const picture = await server.library.add(await samplePicture('jpeg', '#557799', 96, 144), { provider: 'seeded', prompt: `a picture ${payload}`, negative: payload, seed: 7 });
    const watched = await open(server.url, { storage: { 'aiframe.token': TOKEN } });
    const { page } = watched;

    await page.locator('#prompt-list li', { hasText: `a prompt ${payload}` }).waitFor();
    assert.equal(await page.locator('#prompt-list li', { hasText: `Without: a negative ${payload}` }).count(), 1);
    await page.locator(`#gallery-grid li[data-name="${picture.name}"] button`).click();
    await page.locator('#viewer[open]').waitFor();
    assert.match((await page.locator('#viewer-meta').textContent()) ?? '', new RegExp(`a picture ${payload.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await page.locator('#viewer-close').click();
    // A one-off prompt travels into the generation's caption.
    await page.getByLabel('Provider', { exact: true }).selectOption('offline');
    await page.getByLabel(/^Prompt \(optional/).fill(`a boat ${payload}`);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.locator('#generate-result:not([hidden])').waitFor();
    assert.match((await page.locator('#generate-caption').textContent()) ?? '', /a boat <img src=x onerror=/);

    assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected handler ran');
    assert.equal(await page.locator('main b, dialog b, main img[src="x"], dialog img[src="x"]').count(), 0, 'no injected element exists');
    assert.deepEqual(watched.problems, []);
  });

  test('a token typed in another alphabet is "not right", not "the server cannot be reached"', async () => {
    const server = await serve();
    const watched = await open(server.url);
    const { page } = watched;
    await page.getByLabel('New prompt').fill('a quiet harbour');
    await page.getByRole('button', { name: 'Add prompt' }).click();
    await page.locator('#token-dialog[open]').waitFor();
    await page.getByLabel('Token', { exact: true }).fill('пароль-от-рамки');
    await page.locator('#token-form button[type="submit"]').click();
    await page.locator('#token-error:not([hidden])').waitFor();
    assert.equal(await page.locator('#token-error').textContent(), 'That token is not right.');
    await page.getByLabel('Token', { exact: true }).fill(TOKEN);
    await page.locator('#token-form button[type="submit"]').click();
    await page.locator('#prompt-list li', { hasText: 'a quiet harbour' }).waitFor();
    assert.deepEqual(watched.problems, []);
  });

  test('a picture that cannot be decoded is a marked tile in the gallery, and can be deleted', async () => {
    const server = await serve();
    const good = await samplePicture('jpeg', '#3366aa', 96, 144);
    await server.library.add(good, { provider: 'seeded', prompt: 'an older good one' });
    const broken = await server.library.add(good, { provider: 'seeded', prompt: 'a broken one' });
    await writeFile(server.library.originalPath(broken.name), Buffer.concat([good.subarray(0, 3), Buffer.from('not a picture')]));
    await server.library.add(good, { provider: 'seeded', prompt: 'a newer good one' });
    const watched = await open(server.url, { storage: { 'aiframe.token': TOKEN } });
    const { page } = watched;

    const tile = page.locator(`#gallery-grid li[data-name="${broken.name}"]`);
    await tile.locator('.unreadable').waitFor();
    assert.equal(await tile.locator('.unreadable').textContent(), 'Cannot be shown');
    assert.equal(await tile.getByRole('button').getAttribute('aria-label'), 'a broken one');
    await page.waitForFunction(() => [...document.querySelectorAll('#gallery-grid li img')].filter((img: any) => img.naturalWidth > 0).length === 2);
    // The language switch relabels every tile, the unreadable one included.
    await page.getByRole('button', { name: /Переключить на русский/ }).click();
    assert.equal(await tile.locator('.unreadable').textContent(), 'Не удаётся показать');
    await page.getByRole('button', { name: /Switch to English/ }).click();
    await page.locator('#gallery').scrollIntoViewIfNeeded();
    await screenshot(page, 'gallery-unreadable');
    assert.deepEqual(watched.problemsExcept(422), [], 'only the refused thumbnail');

    await tile.getByRole('button').click();
    await page.locator('#viewer[open]').waitFor();
    await page.locator('#viewer').getByRole('button', { name: 'Delete' }).click();
    await page.locator('#viewer:not([open])').waitFor({ state: 'attached' });
    await tile.waitFor({ state: 'detached' });
    assert.equal(server.library.get(broken.name), undefined);
    // The viewer shows the original as stored, which the browser cannot decode either: no request fails.
    assert.deepEqual(watched.problemsExcept(422), []);
  });

  test('the server restarting mid-generation ends it with a message; the next generation works', async () => {
    const picture = await samplePicture('jpeg', '#aa3355', 320, 480);
    const first = new SteppedProvider('stepped', picture, 3);
    const server = session.keep(await startRestartableServer({ AIFRAME_ADMIN_TOKEN: TOKEN }, [first]));
    const watched = await open(server.url, { storage: { 'aiframe.token': TOKEN }, locale: 'ru-RU' });
    const { page } = watched;

    await page.getByLabel('Генератор', { exact: true }).selectOption('stepped');
    await page.getByRole('button', { name: 'Создать', exact: true }).click();
    first.step();
    await page.getByText('Шаг 1 из 3').waitFor();

    await server.stop();
    const second = new SteppedProvider('stepped', picture, 3);
    await server.start([second]);
    // The page reconnects, learns the generation is gone, and says so in its own language.
    await page.locator('#generate-error:not([hidden])').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#generate-error').textContent(), 'Сервер перезапустился или забыл эту генерацию; запустите её снова.');
    assert.equal(await page.locator('#generate-progress').isHidden(), true);
    assert.equal(await page.locator('#generate-button').isEnabled(), true);

    await page.getByLabel('Генератор', { exact: true }).selectOption('stepped');
    await page.getByRole('button', { name: 'Создать', exact: true }).click();
    await page.locator('#generate-progress:not([hidden])').waitFor();
    assert.equal(await page.locator('#generate-error').isHidden(), true, 'the old message is cleared');
    for (let i = 0; i < 4; i++) second.step();
    await page.locator('#generate-result:not([hidden])').waitFor();
    await page.waitForFunction(() => document.getElementById('generate-img').naturalWidth > 0);
    const unexpected = watched.problemsExcept(404).filter((problem) => !problem.includes('ERR_CONNECTION_REFUSED'));
    assert.deepEqual(unexpected, []);
  });
});
