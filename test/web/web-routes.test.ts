/** The page's static files under /ui/ (and `/`): types, caching, and no way out of the folder. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/http/create-app.js';
import { webRoutes } from '../../src/http/web-routes.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { closeServer, listenOnLoopback } from '../support/fake-http-kit.js';
import { rawRequest } from '../support/raw-http.js';
import { startTestServer } from '../support/test-server.js';

const INDEX = '<!doctype html><title>page</title>';

async function listen(webRoot: string): Promise<Server> {
  const app = createApp({ logger: createMemoryLogger(), routers: [webRoutes({ webRoot })] });
  const server = createServer(app.callback());
  await listenOnLoopback(server);
  return server;
}

describe('web routes', () => {
  let dir: string;
  let server: Server;
  let base: string;
  let port: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aiframe-'));
    const web = join(dir, 'web');
    await mkdir(join(web, 'sub'), { recursive: true });
    await writeFile(join(web, 'index.html'), INDEX);
    await writeFile(join(web, 'app.css'), 'body{}');
    await writeFile(join(web, 'app.js'), 'export {};');
    await writeFile(join(web, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(web, 'sub', 'part.js'), 'export const part = 1;');
    await writeFile(join(web, '.secret.js'), 'dot file');
    await writeFile(join(web, 'notes.md'), 'not a served kind');
    await writeFile(join(dir, 'secret.txt'), 'outside the web root');
    await writeFile(join(dir, 'outside.js'), 'outside the web root');
    await symlink(join(dir, 'outside.js'), join(web, 'link.js'));
    server = await listen(web);
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await closeServer(server);
    await rm(dir, { recursive: true, force: true });
  });

  test('/ and /ui/ answer with index.html, with a strict content security policy', async () => {
    for (const path of ['/', '/ui/', '/ui/index.html']) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(response.headers.get('cache-control'), 'no-cache');
      assert.match(response.headers.get('etag') ?? '', /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'.*connect-src 'self'/);
      assert.equal(await response.text(), INDEX);
    }
  });

  test('each kind of file gets its content type', async () => {
    const expected: Record<string, string> = {
      '/ui/app.css': 'text/css; charset=utf-8',
      '/ui/app.js': 'text/javascript; charset=utf-8',
      '/ui/icon.svg': 'image/svg+xml',
      '/ui/sub/part.js': 'text/javascript; charset=utf-8',
    };
    for (const [path, type] of Object.entries(expected)) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), type, path);
      assert.equal(response.headers.get('content-security-policy'), null, 'only the HTML carries the policy');
      await response.arrayBuffer();
    }
  });

  test('a matching ETag answers 304 without a body; HEAD answers headers only', async () => {
    const first = await fetch(`${base}/ui/app.js`);
    const etag = first.headers.get('etag') ?? '';
    await first.arrayBuffer();
    const again = await rawRequest(port, 'GET', '/ui/app.js', undefined, { 'If-None-Match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    const head = await rawRequest(port, 'HEAD', '/ui/app.js', undefined, {});
    assert.equal(head.status, 200);
    assert.equal(head.header('content-length'), String('export {};'.length));
    assert.equal(head.body.length, 0);
  });

  test('/ui redirects to /ui/', async () => {
    const response = await fetch(`${base}/ui`, { redirect: 'manual' });
    assert.equal(response.status, 301);
    assert.equal(response.headers.get('location'), '/ui/');
  });

  test('no path leads out of the folder, to a dot-file or to an unknown kind of file', async () => {
    const attempts = [
      '/ui/../secret.txt',
      '/ui/sub/../../secret.txt',
      '/ui/%2e%2e/secret.txt',
      '/ui/%2E%2E%2Fsecret.txt',
      '/ui/sub/..%2f..%2foutside.js',
      '/ui/..%5coutside.js',
      '/ui/%252e%252e/outside.js',
      '/ui/%2fetc%2fpasswd',
      '/ui//etc/passwd',
      '/ui/.secret.js',
      '/ui/sub/',
      '/ui/notes.md',
      '/ui/link.js',
      '/ui/missing.js',
      '/ui/app.js%00.html',
    ];
    for (const path of attempts) {
      const response = await rawRequest(port, 'GET', path, undefined, {});
      assert.ok(response.status === 404 || response.status === 400, `${path} answered ${response.status}`);
      const text = response.body.toString();
      assert.ok(!text.includes('outside the web root') && !text.includes('dot file') && !text.includes('root:'), path);
      assert.match(response.header('content-type') ?? '', /^application\/json/, `${path}: the upstream error shape`);
    }
    const malformed = await rawRequest(port, 'GET', '/ui/%E0%A4%A', undefined, {});
    assert.equal(malformed.status, 400);
  });

  test('other methods are refused', async () => {
    const response = await fetch(`${base}/ui/app.js`, { method: 'POST', body: 'x' });
    assert.equal(response.status, 405);
    await response.arrayBuffer();
  });

  test('a missing web folder answers 404 in the upstream error shape', async () => {
    const missing = await listen(join(dir, 'no-such-folder'));
    try {
      const response = await fetch(`http://127.0.0.1:${(missing.address() as AddressInfo).port}/`);
      assert.equal(response.status, 404);
      const body = (await response.json()) as { error: { message: string } };
      assert.match(body.error.message, /web page files are missing/);
    } finally {
      await closeServer(missing);
    }
  });
});

test('the real server answers / with the phone page from web/, and keeps the status page at /status', async () => {
  const server = await startTestServer();
  try {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/ui\/app.js"><\/script>/);
    for (const file of ['/ui/app.js', '/ui/i18n.js', '/ui/app.css', '/ui/icon.svg']) {
      const response = await fetch(`${server.url}${file}`);
      assert.equal(response.status, 200, file);
      await response.arrayBuffer();
    }
    const status = await fetch(`${server.url}/status`);
    assert.equal(status.status, 200);
    assert.match(await status.text(), /<title>aiframe-server status<\/title>/);
  } finally {
    await server.dispose();
  }
});
