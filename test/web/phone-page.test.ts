/**
 * The phone page in real headless Chromium against the real server: what an owner does on
 * the home Wi-Fi. Screenshots of the phone-sized page land in test-artifacts/.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { samplePicture } from '../support/fake-http-kit.js';
import { FailingProvider, SteppedProvider } from '../support/test-providers.js';
import { startAndWait, startTestServer, type TestServer, type TestServerOptions } from '../support/test-server.js';
import { phoneSession, screenshot, type OpenPageOptions, type WatchedPage } from './support/browser.js';

const TOKEN = 'phone-page-test-token-0123456789abcdef';

// Globals of the functions that run inside the page (this project compiles without the DOM library).
declare const document: any;
declare const localStorage: { getItem(key: string): string | null };

async function seedPictures(server: TestServer, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    const shade = (index * 37) % 256;
    await server.library.add(await samplePicture('jpeg', `rgb(${shade}, 120, ${255 - shade})`, 96, 144), { provider: 'seeded', prompt: `seeded picture ${index}` });
  }
}

/** Sends the frame a picture the way the firmware does, so "Now on the frame" has one. */
async function sendToFrame(server: TestServer): Promise<void> {
  const id = await startAndWait(server.url, { type: 'auto' });
  await (await fetch(`${server.url}/operation/result/${id}`)).arrayBuffer();
}

describe('the phone page in Chromium', () => {
  const session = phoneSession();
  const serve = async (options: TestServerOptions = {}): Promise<TestServer> =>
    session.keep(await startTestServer({ ...options, environment: { AIFRAME_ADMIN_TOKEN: TOKEN } }));
  const open = (server: TestServer, options: OpenPageOptions = {}): Promise<WatchedPage> => session.open(server.url, options);
  const enterToken = async ({ page }: WatchedPage, token: string): Promise<void> => {
    await page.locator('#token-dialog[open]').waitFor();
    await page.getByLabel('Token', { exact: true }).fill(token);
    await page.locator('#token-form button[type="submit"]').click();
  };

  test('loads with every section, no console errors and nothing fetched from outside the server', async () => {
    const server = await serve();
    await sendToFrame(server);
    const watched = await open(server);
    const { page } = watched;

    assert.equal(await page.locator('h1').textContent(), 'AiFrame');
    const headings = await page.locator('main h2').allTextContents();
    assert.deepEqual(
      headings.map((text) => text.replace(/\s+/g, ' ').trim().replace(/ \d.*$/, '')),
      ['Now on the frame', 'Generate now', 'Providers', 'Prompts', 'Gallery'],
    );
    // The picture the frame was sent, as the frame got it.
    const frameImage = page.locator('#frame-img');
    await page.waitForFunction(() => document.getElementById('frame-img').naturalWidth > 0);
    assert.match((await frameImage.getAttribute('src')) ?? '', /^\/api\/pictures\/[^/]+\/frame$/);
    // Provider status: ready, today's count.
    const provider = page.locator('#provider-list li', { hasText: 'offline' });
    assert.match((await provider.textContent()) ?? '', /Built-in offline generator.*ready.*Today: 1 call · 1 ok, 0 failed/);
    assert.match((await page.locator('#gallery-count').textContent()) ?? '', /^1 picture$/);
    assert.equal(await page.locator('#generate-provider option[value="offline"]').count(), 1);

    // Accessible: every visible control has a label, every button a name, every image an alt.
    const unnamed = await page.evaluate(() => {
      const missing: string[] = [];
      for (const control of document.querySelectorAll('input:not([hidden]), select, textarea')) {
        if (control.labels?.length === 0 && !control.getAttribute('aria-label')) missing.push(`control #${control.id}`);
      }
      for (const button of document.querySelectorAll('button')) {
        if (!(button.textContent ?? '').trim() && !button.getAttribute('aria-label') && !button.querySelector('img[alt]:not([alt=""])') && !button.closest('[hidden]')) missing.push(`button #${button.id}`);
      }
      for (const image of document.querySelectorAll('img')) if (!image.hasAttribute('alt')) missing.push(`img ${image.id}`);
      return missing;
    });
    assert.deepEqual(unnamed, []);

    await screenshot(page, 'home');
    await screenshot(page, 'home-full', true);
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'home-dark');
    assert.deepEqual(watched.outside, [], 'only the server is asked for anything');
    assert.deepEqual(watched.problems, []);
  });

  test('adding a prompt asks for the token once, refuses a wrong one, then edits and deletes without asking', async () => {
    const server = await serve();
    const watched = await open(server);
    const { page } = watched;

    await page.getByLabel('New prompt').fill('a lighthouse at dusk, oil painting');
    await page.getByLabel('Negative prompt (optional)').first().fill('people');
    await page.getByRole('button', { name: 'Add prompt' }).click();
    await enterToken(watched, 'not-the-token');
    await page.locator('#token-error:not([hidden])').waitFor();
    assert.equal(await page.locator('#token-error').textContent(), 'That token is not right.');
    await enterToken(watched, TOKEN);
    await page.locator('#token-dialog:not([open])').waitFor({ state: 'attached' });

    const item = page.locator('#prompt-list li', { hasText: 'a lighthouse at dusk, oil painting' });
    await item.waitFor();
    assert.match((await item.textContent()) ?? '', /Without: people/);
    assert.ok(server.prompts.list().some((entry) => entry.prompt === 'a lighthouse at dusk, oil painting' && entry.negative === 'people'));
    assert.equal(await page.evaluate(() => localStorage.getItem('aiframe.token')), TOKEN, 'remembered');

    // The same prompt again: the server's refusal is shown in words.
    await page.getByLabel('New prompt').fill('a lighthouse at dusk, oil painting');
    await page.getByRole('button', { name: 'Add prompt' }).click();
    await page.locator('#prompts-error:not([hidden])').waitFor();
    const refusal = (await page.locator('#prompts-error').textContent()) ?? '';
    assert.ok(refusal.length > 10 && !/error 409/.test(refusal), `a readable line: ${refusal}`);

    // Edit, then delete: the stored token is used, no dialog.
    await item.getByRole('button', { name: /^Edit prompt/ }).click();
    const editor = page.locator('#prompt-list li form');
    await editor.getByLabel('Prompt', { exact: true }).fill('a lighthouse in a storm');
    await editor.getByRole('button', { name: 'Save' }).click();
    const edited = page.locator('#prompt-list li', { hasText: 'a lighthouse in a storm' });
    await edited.waitFor();
    assert.ok(server.prompts.list().some((entry) => entry.prompt === 'a lighthouse in a storm'));
    await edited.getByRole('button', { name: /^Delete prompt/ }).click();
    await edited.waitFor({ state: 'detached' });
    assert.ok(!server.prompts.list().some((entry) => entry.prompt.startsWith('a lighthouse')));
    assert.equal(await page.locator('#token-dialog[open]').count(), 0);

    assert.deepEqual(watched.problemsExcept(401, 409), []);
    assert.deepEqual(watched.outside, []);
  });

  test('a stored token that stopped working is asked for again; cancelling says a token is needed', async () => {
    const server = await serve();
    const watched = await open(server, { storage: { 'aiframe.token': 'an-old-token-from-before' } });
    const { page } = watched;

    await page.getByLabel('New prompt').fill('snowy pine forest at night');
    await page.getByRole('button', { name: 'Add prompt' }).click();
    await page.locator('#token-dialog[open]').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('#prompts-error:not([hidden])').waitFor();
    assert.equal(await page.locator('#prompts-error').textContent(), 'This needs the admin token.');

    await page.getByRole('button', { name: 'Add prompt' }).click();
    await enterToken(watched, TOKEN);
    await page.locator('#prompt-list li', { hasText: 'snowy pine forest at night' }).waitFor();
    assert.equal(await page.locator('#prompts-error').isHidden(), true, 'the old error is cleared');
    assert.deepEqual(watched.problemsExcept(401), []);
  });

  test('Generate now with the offline provider shows its progress, then the picture', async () => {
    const server = await serve();
    const watched = await open(server, { storage: { 'aiframe.token': TOKEN } });
    const { page } = watched;

    await page.getByLabel('Provider', { exact: true }).selectOption('offline');
    await page.getByLabel(/^Prompt \(optional/).fill('a red sailing boat on a calm sea');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.locator('#generate-result:not([hidden])').waitFor();
    await page.waitForFunction(() => document.getElementById('generate-img').naturalWidth > 0);

    // The offline painter reports its steps; at least its last one is shown before the picture.
    const steps = await watched.stepTexts();
    assert.equal(steps.at(-1), 'Done', JSON.stringify(steps));
    const last = /^Step (\d+) of (\d+)$/.exec(steps.at(-2) ?? '');
    assert.ok(last !== null && last[1] === last[2], `the progress was shown: ${JSON.stringify(steps)}`);
    assert.deepEqual(await page.locator('#generate-bar').evaluate((bar) => [bar.value, bar.max]), [Number(last[2]), Number(last[2])]);
    assert.match((await page.locator('#generate-caption').textContent()) ?? '', /a red sailing boat on a calm sea · offline/);
    // The new picture is in the library, first in the gallery, and counted for the provider.
    assert.equal(server.library.size, 1);
    const newest = server.library.newest();
    assert.equal(newest?.prompt, 'a red sailing boat on a calm sea');
    assert.equal(await page.locator('#gallery-grid li').first().getAttribute('data-name'), newest?.name);
    await page.locator('#provider-list li', { hasText: /Today: 1 call ·/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Generate', exact: true }).isEnabled(), true);

    await page.locator('#generate').scrollIntoViewIfNeeded();
    await screenshot(page, 'generated');
    assert.deepEqual(watched.problems, []);
    assert.deepEqual(watched.outside, []);
  });

  test('live progress: each step and the preview arrive while the provider works', async () => {
    const preview = await samplePicture('jpeg', '#aa5500', 64, 96);
    const stepped = new SteppedProvider('stepped', await samplePicture('jpeg', '#2266aa', 320, 480), 3, preview);
    const server = await serve({ extraProviders: [stepped] });
    const watched = await open(server, { storage: { 'aiframe.token': TOKEN } });
    const { page } = watched;

    await page.getByLabel('Provider', { exact: true }).selectOption('stepped');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.locator('#generate-progress:not([hidden])').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Generate', exact: true }).isDisabled(), true, 'one at a time');

    stepped.step();
    await page.getByText('Step 1 of 3').waitFor();
    await page.locator('#generate-preview:not([hidden])').waitFor();
    assert.match((await page.locator('#generate-preview').getAttribute('src')) ?? '', /^data:image\/jpeg;base64,/);
    await page.waitForFunction(() => document.getElementById('generate-preview').naturalWidth === 64);
    assert.deepEqual(await page.locator('#generate-bar').evaluate((bar) => [bar.value, bar.max]), [1, 3]);
    await page.locator('#generate').scrollIntoViewIfNeeded();
    await screenshot(page, 'progress');

    stepped.step();
    await page.getByText('Step 2 of 3').waitFor();
    stepped.step();
    await page.getByText('Step 3 of 3').waitFor();
    assert.equal(await page.locator('#generate-result').isHidden(), true, 'no picture before the provider is done');
    stepped.step();
    await page.locator('#generate-result:not([hidden])').waitFor();
    await page.waitForFunction(() => document.getElementById('generate-img').naturalWidth > 0);
    assert.deepEqual(await watched.stepTexts(), ['Waiting for the provider…', 'Step 1 of 3', 'Step 2 of 3', 'Step 3 of 3', 'Done']);
    assert.equal(await page.locator('#generate-preview').isHidden(), true, 'the preview gives way to the picture');
    assert.deepEqual(watched.problems, []);
  });

  test('a provider that fails, or is not ready, is reported in words', async () => {
    const broken = new FailingProvider('broken', 'Broken remote');
    const server = await serve({ extraProviders: [broken] });
    const watched = await open(server, { storage: { 'aiframe.token': TOKEN } });
    const { page } = watched;

    // The server falls over to the next provider; the page says why the picture is not from the one chosen.
    await page.getByLabel('Provider', { exact: true }).selectOption('broken');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.locator('#generate-result:not([hidden])').waitFor();
    assert.match((await page.locator('#generate-caption').textContent()) ?? '', /· offline · .*generation failed: remote service answered 500/);
    assert.equal(await page.getByRole('button', { name: 'Generate', exact: true }).isEnabled(), true);
    await page.locator('#provider-list li', { hasText: /Broken remote.*Today: 1 call · 0 ok, 1 failed/ }).waitFor();

    // Switched off while the page still offers it: the server's reason, as a readable line.
    broken.ready = false;
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.locator('#generate-error', { hasText: 'switched off by the test' }).waitFor();
    assert.deepEqual(watched.problemsExcept(409), []);
  });

  test('the gallery shows lazy thumbnails, loads more at the end, and deletes a picture', async () => {
    const server = await serve();
    await seedPictures(server, 60);
    const watched = await open(server, { storage: { 'aiframe.token': TOKEN } });
    const { page } = watched;

    const items = page.locator('#gallery-grid li');
    assert.equal(await page.locator('#gallery-count').textContent(), '60 pictures');
    assert.equal(await items.count(), 48, 'the first page');
    assert.equal(await page.locator('#gallery-grid img:not([loading="lazy"])').count(), 0);
    assert.equal(await items.first().locator('img').getAttribute('alt'), 'seeded picture 59', 'newest first');

    // Scrolling to the end loads the rest (IntersectionObserver), and the button goes away.
    await page.locator('#gallery-sentinel').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelectorAll('#gallery-grid li').length === 60);
    assert.equal(await page.locator('#gallery-more').isHidden(), true);
    assert.equal(await items.last().locator('img').getAttribute('alt'), 'seeded picture 0');
    await page.waitForFunction(() => document.querySelector('#gallery-grid li:last-child img').naturalWidth > 0);
    await screenshot(page, 'gallery');

    // Tap a thumbnail: the original, its details, and delete.
    await items.first().getByRole('button').click();
    await page.locator('#viewer[open]').waitFor();
    await page.waitForFunction(() => document.getElementById('viewer-img').naturalWidth === 96);
    assert.match((await page.locator('#viewer-meta').textContent()) ?? '', /Promptseeded picture 59.*Providerseeded.*Size96 × 144/);
    await page.locator('#viewer').getByRole('button', { name: 'Delete' }).click();
    await page.locator('#viewer:not([open])').waitFor({ state: 'attached' });
    assert.equal(await items.count(), 59);
    assert.equal(await page.locator('#gallery-count').textContent(), '59 pictures');
    assert.equal(server.library.size, 59);
    assert.equal(server.library.list().some((meta) => meta.prompt === 'seeded picture 59'), false);
    assert.deepEqual(watched.problems, []);
  });

  test('the "Load more" button pages with the cursor where scrolling cannot', async () => {
    const server = await serve();
    await seedPictures(server, 50);
    // Without IntersectionObserver (older browsers) the button is the way to page on.
    const watched = await open(server, { withoutIntersectionObserver: true });
    const { page } = watched;
    assert.equal(await page.locator('#gallery-grid li').count(), 48);
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#gallery-grid li').length === 50);
    const names = await page.locator('#gallery-grid li').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-name')));
    assert.equal(new Set(names).size, 50, 'no picture twice');
    assert.deepEqual(names, server.library.list().map((meta) => meta.name), 'newest first, as the library orders them');
    assert.deepEqual(watched.problems, []);
  });

  test('Russian when the phone is set to Russian; the language toggle is remembered', async () => {
    const server = await serve();
    await sendToFrame(server);
    await seedPictures(server, 5);
    const watched = await open(server, { locale: 'ru-RU' });
    const { page } = watched;

    assert.equal(await page.locator('html').getAttribute('lang'), 'ru');
    assert.equal(await page.locator('#frame-title').textContent(), 'Сейчас на рамке');
    assert.equal(await page.locator('#generate-button').textContent(), 'Создать');
    assert.equal(await page.locator('#gallery-count').textContent(), '6 картинок');
    assert.equal(await page.locator('#generate-provider option').first().textContent(), 'Любой готовый генератор');
    assert.match((await page.locator('#provider-list li').first().textContent()) ?? '', /готов.*Сегодня: 1 вызов ·/);
    await screenshot(page, 'ru');

    await page.getByRole('button', { name: 'Switch to English' }).click();
    assert.equal(await page.locator('#frame-title').textContent(), 'Now on the frame');
    assert.equal(await page.locator('#gallery-count').textContent(), '6 pictures');
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
    assert.equal(await page.locator('html').getAttribute('lang'), 'en', 'the choice outlives a reload');
    assert.equal(await page.locator('#prompts-title span').first().textContent(), 'Prompts');
    assert.deepEqual(watched.problems, []);
  });
});
