/** Metrics, health and the status page on the real server, after real frame traffic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startOperation, startTestServer, waitForOperation } from '../support/test-server.js';

test('a generation and a sent picture show up in /metrics, /healthz and the status page', async () => {
  const server = await startTestServer();
  try {
    const { json } = await startOperation(server.url, { type: 'auto' });
    assert.equal(await waitForOperation(server.url, json.id ?? ''), 'done');
    await (await fetch(`${server.url}/operation/result/${json.id}`)).arrayBuffer();

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^aiframe_generations_total\{provider="offline",outcome="success"\} 1$/m);
    assert.match(metrics, /^aiframe_images_sent_total\{source="provider"\} 1$/m);
    assert.match(metrics, /^aiframe_library_pictures 1$/m);
    assert.match(metrics, /^aiframe_http_requests_total\{route="\/operation\/result\/:id",method="GET",status="200"\} 1$/m);
    assert.match(metrics, /^aiframe_generation_duration_seconds_count\{provider="offline"\} 1$/m);

    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string; pictures: number }).pictures, 1);

    const page = await (await fetch(`${server.url}/status`)).text();
    assert.match(page, /Built-in offline generator/);
    const status = (await (await fetch(`${server.url}/status.json`)).json()) as { providers: { id: string; today: { calls: number } }[] };
    assert.equal(status.providers.find((provider) => provider.id === 'offline')?.today.calls, 1);
  } finally {
    await server.dispose();
  }
});

/** A CSP header as directive -> sources. */
function policy(header: string | null): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name, sources);
  }
  return directives;
}

test('the status page carries the web page\'s security headers, its own inline style allowed by hash', async () => {
  const server = await startTestServer();
  try {
    const web = await fetch(`${server.url}/`);
    await web.arrayBuffer();
    const status = await fetch(`${server.url}/status`);
    const html = await status.text();
    assert.equal(status.status, 200);
    assert.equal(status.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(status.headers.get('referrer-policy'), web.headers.get('referrer-policy'));
    const page = policy(status.headers.get('content-security-policy'));
    const phone = policy(web.headers.get('content-security-policy'));
    assert.deepEqual(page.get('frame-ancestors'), ["'none'"], 'no other site may frame it');
    assert.deepEqual(page.get('script-src'), ["'self'"]);
    // Every directive of the phone page's policy, the same; style-src adds only the page's own style.
    for (const [name, sources] of phone) {
      if (name === 'style-src') continue;
      assert.deepEqual(page.get(name), sources, name);
    }
    assert.deepEqual([...page.keys()].sort(), [...phone.keys()].sort());
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
    assert.ok(style !== undefined, 'the page has its inline style');
    const hash = `'sha256-${createHash('sha256').update(style).digest('base64')}'`;
    assert.deepEqual(page.get('style-src'), [...(phone.get('style-src') ?? []), hash], 'the inline style applies, and no other');
  } finally {
    await server.dispose();
  }
});
