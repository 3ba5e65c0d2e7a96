/** Metrics, health and the status page on the real server, after real frame traffic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
