/**
 * The frame's own write routes take no token (the firmware cannot send one), so a web page on
 * another site, opened by anyone on the home Wi-Fi, could post to them: a "simple" cross-site
 * POST (text/plain, no-cors) needs no preflight. Browsers mark such requests with an Origin
 * header; the frame, curl and Home Assistant send none.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../support/test-server.js';
import { rawRequest } from '../support/raw-http.js';
import { call, TOKEN, TOKEN_OPTIONS } from './api-client.js';

describe('cross-site writes', () => {
  test('a browser request from another site cannot add prompts or start generations', async () => {
    const server = await startTestServer({ optionsYaml: TOKEN_OPTIONS });
    try {
      const promptsBefore = server.prompts.list().length;
      for (const origin of ['http://evil.example', 'http://192.168.1.50:8080', 'null', `http://127.0.0.1:${server.port + 1}`]) {
        for (const [path, body] of [
          ['/prompt/add', { prompt: `added from ${origin}` }],
          ['/operation/start', { type: 'ydart' }],
        ] as const) {
          const response = await call(server.url, 'POST', path, { rawBody: JSON.stringify(body), headers: { Origin: origin, 'Content-Type': 'text/plain;charset=UTF-8' } });
          assert.equal(response.status, 403, `${path} from ${origin}`);
          assert.equal(response.json.error.code, 'Forbidden');
          assert.match(response.json.error.message, /another site/);
        }
      }
      assert.equal(server.prompts.list().length, promptsBefore, 'nothing was added');
      assert.equal(server.operations.size, 0, 'nothing was started');
    } finally {
      await server.dispose();
    }
  });

  test('the frame, curl, the page itself and token holders still get through', async () => {
    const server = await startTestServer({ optionsYaml: TOKEN_OPTIONS });
    try {
      // The frame: exactly its headers, no Origin.
      const frame = await rawRequest(server.port, 'POST', '/prompt/add', '{"prompt":"from the frame"}', { 'Content-Type': 'application/json', Accept: '*/*' });
      assert.equal(frame.status, 201);
      assert.equal(frame.body.toString(), '{"status":"done"}');
      // The page on this server: Origin is this server's own.
      const own = await call(server.url, 'POST', '/prompt/add', { body: { prompt: 'from the page' }, headers: { Origin: server.url } });
      assert.equal(own.status, 201);
      // The page behind a reverse proxy that names the public host in X-Forwarded-Host.
      const proxied = await call(server.url, 'POST', '/prompt/add', {
        body: { prompt: 'through a proxy' },
        headers: { Origin: 'https://frame.example.org', 'X-Forwarded-Host': 'frame.example.org' },
      });
      assert.equal(proxied.status, 201);
      // A token holder: the token cannot come from another site without a CORS preflight we never grant.
      const withToken = await call(server.url, 'POST', '/api/prompts', { token: TOKEN, body: { prompt: 'with the token' }, headers: { Origin: 'http://ha.local:8123' } });
      assert.equal(withToken.status, 201);
      // Reads are not writes.
      assert.equal((await call(server.url, 'GET', '/api/prompts', { headers: { Origin: 'http://evil.example' } })).status, 200);
    } finally {
      await server.dispose();
    }
  });
});
