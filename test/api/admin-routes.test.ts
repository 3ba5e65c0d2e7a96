/**
 * Every route that spends money, deletes or changes settings needs the admin token. The list
 * of routes is read from the routers themselves, so a write route added later without the
 * token check fails here instead of shipping open.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type Router from '@koa/router';
import { apiRoutes, type ApiRoutesOptions } from '../../src/http/api/api-routes.js';
import { frameRoutes, type FrameRoutesOptions } from '../../src/http/frame-routes.js';
import { statusRoutes, type StatusRoutesOptions } from '../../src/http/status-routes.js';
import { webRoutes } from '../../src/http/web-routes.js';
import { startTestServer } from '../support/test-server.js';
import { call, jpeg, TOKEN, TOKEN_OPTIONS } from './api-client.js';

/** Method and path of every route; building a router only registers handlers, it calls nothing. */
function routesOf(router: Router): Array<[string, string]> {
  return router.stack.flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD').map((method): [string, string] => [method, String(layer.path)]));
}

/** The API router built only to read its route table: nothing in these options is called. */
function apiRouteTable(): Router {
  return apiRoutes({ tokenCheck: () => false, renders: { dir: '/nowhere/profile' }, library: { onRemoved: () => () => undefined } } as unknown as ApiRoutesOptions);
}

const READ_ONLY = new Set(['GET', 'HEAD']);

/** The routes that need the token (the admin check itself included), with a body that would be valid. */
const GUARDED: ReadonlyArray<readonly [string, string, unknown]> = [
  ['GET', '/api/auth', undefined],
  ['POST', '/api/prompts', { prompt: 'a refused prompt' }],
  ['PUT', '/api/prompts/:id', { prompt: 'a refused edit' }],
  ['DELETE', '/api/prompts/:id', undefined],
  ['DELETE', '/api/pictures/:name', undefined],
  ['POST', '/api/generations', {}],
];

/** The frame's own writes: open by the firmware contract (it cannot authenticate). */
const FRAME_WRITES = ['POST /operation/start', 'POST /prompt/add'];

describe('admin token on every write', () => {
  test('the routers hold no write route beyond the guarded API ones and the frame\'s own', () => {
    const api = apiRouteTable();
    const writes = routesOf(api).filter(([method]) => !READ_ONLY.has(method));
    assert.deepEqual(
      writes.map(([method, path]) => `${method} ${path}`).sort(),
      GUARDED.filter(([method]) => !READ_ONLY.has(method)).map(([method, path]) => `${method} ${path}`).sort(),
    );
    const others = [
      frameRoutes({} as FrameRoutesOptions),
      statusRoutes({ version: 'test', startedAt: new Date() } as StatusRoutesOptions),
      webRoutes({ webRoot: '/nowhere' }),
    ].flatMap(routesOf);
    assert.deepEqual(others.filter(([method]) => !READ_ONLY.has(method)).map(([method, path]) => `${method} ${path}`).sort(), FRAME_WRITES);
  });

  test('each guarded route refuses no token, a wrong one and a malformed header with 401, and changes nothing', async () => {
    const server = await startTestServer({ optionsYaml: TOKEN_OPTIONS });
    try {
      const picture = await server.library.add(await jpeg(32, 48, '#224466'), { provider: 'seeded' });
      const promptsBefore = JSON.stringify(server.prompts.list());
      const refusals: ReadonlyArray<Record<string, string>> = [
        {},
        { Authorization: 'Bearer wrong-token-0123456789abcdef' },
        { Authorization: `Bearer ${TOKEN.slice(0, -1)}` },
        { Authorization: TOKEN },
        { Authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
      ];
      for (const [method, template, body] of GUARDED) {
        const path = template.replace(':id', '1').replace(':name', picture.name);
        for (const headers of refusals) {
          const response = await call(server.url, method, path, { headers, ...(body === undefined ? {} : { body }) });
          assert.equal(response.status, 401, `${method} ${path} with ${JSON.stringify(headers)}`);
          assert.equal(response.json.error.code, 'Unauthorized');
        }
      }
      assert.equal(JSON.stringify(server.prompts.list()), promptsBefore, 'prompts unchanged');
      assert.ok(server.library.get(picture.name), 'the picture is still there');
      assert.equal(server.operations.size, 0, 'nothing started');
      assert.equal(server.logs.filter((record) => JSON.stringify(record).includes('wrong-token-0123456789abcdef')).length, 0, 'a presented token is never logged');

      // And every read route answers without a token.
      const api = apiRouteTable();
      for (const [method, template] of routesOf(api).filter(([method, path]) => READ_ONLY.has(method) && path !== '/api/auth')) {
        const path = template.replace(':name', picture.name).replace(':id', 'no-such-generation');
        const response = await call(server.url, method, path);
        assert.notEqual(response.status, 401, `${method} ${path}`);
      }
    } finally {
      await server.dispose();
    }
  });
});
