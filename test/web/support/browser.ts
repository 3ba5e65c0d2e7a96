/**
 * Real headless Chromium for the page's tests: Debian's `chromium` package, driven by
 * playwright-core (which never downloads a browser of its own). A missing browser fails the
 * tests with a message that says what to install; CI (`.ci/run`) installs it.
 */
import { access, constants, mkdir } from 'node:fs/promises';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM_PATH = '/usr/bin/chromium';

// Globals of the functions that run inside the page (this project compiles without the DOM library).
declare const window: any;
declare const document: any;
declare const localStorage: { setItem(key: string, value: string): void };
declare const sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
declare const MutationObserver: any;

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where screenshots go: `test-artifacts/` at the repository root (from `dist/test/web/support/`). */
const ARTIFACTS_DIR = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));

/** A phone: 390x844 CSS pixels at 2x, touch, as a mid-size phone reports itself. */
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } as const;

async function launchChromium(): Promise<Browser> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium was not found at ${CHROMIUM_PATH}. The browser tests need Debian's chromium package: ` +
        'run `apt-get install -y --no-install-recommends chromium` (.ci/run does this on CI).',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** A page on the server, and everything it did that a healthy page should not. */
export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors, uncaught exceptions, failed loads and error answers, in order. */
  readonly problems: string[];
  /** Every URL the page asked for that is not on the server's origin. */
  readonly outside: string[];
  /** Texts the generate step line showed, in order (recorded in the page, so none is missed). */
  stepTexts(): Promise<string[]>;
  /** Problems other than answers with the given statuses (a refusal the test asked for). */
  problemsExcept(...statuses: number[]): string[];
}

export interface OpenPageOptions {
  readonly locale?: string;
  /** Accept every confirm() the page asks (deletes). */
  readonly acceptDialogs?: boolean;
  /** localStorage entries set before the page's own script runs. */
  readonly storage?: Readonly<Record<string, string>>;
  /** Pretend to be a browser without IntersectionObserver. */
  readonly withoutIntersectionObserver?: boolean;
}

async function openPage(browser: Browser, baseUrl: string, options: OpenPageOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ ...PHONE, locale: options.locale ?? 'en-US', serviceWorkers: 'block' });
  const origin = new URL(baseUrl).origin;
  const problems: string[] = [];
  const outside: string[] = [];
  context.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith('data:') && new URL(url).origin !== origin) outside.push(url);
  });
  if (options.storage !== undefined) {
    await context.addInitScript((entries: Record<string, string>) => {
      if (sessionStorage.getItem('test.seeded') === null) {
        for (const [key, value] of Object.entries(entries)) localStorage.setItem(key, value);
        sessionStorage.setItem('test.seeded', '1');
      }
    }, options.storage);
  }
  if (options.withoutIntersectionObserver === true) {
    await context.addInitScript(() => {
      delete window.IntersectionObserver;
    });
  }
  // Records every text the step line shows, even ones replaced within the same task.
  await context.addInitScript(() => {
    const texts: string[] = [];
    window.__stepTexts = texts;
    document.addEventListener('DOMContentLoaded', () => {
      const line = document.getElementById('generate-step');
      if (line === null) return;
      new MutationObserver((records: { addedNodes: Iterable<{ textContent: string | null }> }[]) => {
        for (const record of records) for (const node of record.addedNodes) if (node.textContent) texts.push(node.textContent);
      }).observe(line, { childList: true });
    });
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // The page closes a finished generation's event stream itself: an abort it asked for.
    if (request.failure()?.errorText === 'net::ERR_ABORTED' && request.url().endsWith('/events')) return;
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} ${response.request().method()} ${response.url()}`);
  });
  if (options.acceptDialogs ?? true) page.on('dialog', (dialog) => void dialog.accept());
  return {
    context,
    page,
    problems,
    outside,
    stepTexts: () => page.evaluate((): string[] => [...window.__stepTexts]),
    problemsExcept: (...statuses) =>
      problems.filter((problem) => !statuses.some((status) => problem.startsWith(`HTTP ${status} `) || problem.includes(`status of ${status} `))),
  };
}

/** Loads the page and waits until its first data has arrived. */
async function loadPage(watched: WatchedPage, url: string): Promise<void> {
  await watched.page.goto(url);
  await watched.page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
}

export interface PhoneSession {
  /** Opens the page at `baseUrl` on a phone and waits until its first data has arrived. */
  open(baseUrl: string, options?: OpenPageOptions): Promise<WatchedPage>;
  /** Has `server` disposed of after the suite, once the pages are closed. */
  keep<T extends { dispose(): Promise<void> }>(server: T): T;
}

/**
 * Call inside describe(): one Chromium for the suite, launched before it; after it, every
 * page opened is closed, then the browser, then every server kept.
 */
export function phoneSession(): PhoneSession {
  let browser: Browser | undefined;
  const pages: WatchedPage[] = [];
  const servers: Array<{ dispose(): Promise<void> }> = [];
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    for (const watched of pages) await watched.context.close().catch(() => undefined);
    await browser?.close();
    for (const server of servers) await server.dispose();
  });
  return {
    async open(baseUrl, options = {}) {
      if (browser === undefined) throw new Error('Chromium was not launched');
      const watched = await openPage(browser, baseUrl, options);
      pages.push(watched);
      await loadPage(watched, `${baseUrl}/`);
      return watched;
    },
    keep(server) {
      servers.push(server);
      return server;
    },
  };
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `phone-${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}
