/** allowed_networks and the admin token, through the real server. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/config-error.js';
import { startTestServer } from '../support/test-server.js';
import { call, TOKEN, TOKEN_OPTIONS } from './api-client.js';

describe('allowed_networks', () => {
  test('a client outside the list gets 403 on every route, the frame routes included', async () => {
    const server = await startTestServer({ optionsYaml: `${TOKEN_OPTIONS}allowed_networks:\n  - 10.0.0.0/8\n  - fd00::/8\n` });
    try {
      for (const [method, path, body] of [
        ['POST', '/operation/start', { type: 'auto' }],
        ['GET', '/operation/status/abc', undefined],
        ['GET', '/api/summary', undefined],
        ['GET', '/api/pictures', undefined],
        ['POST', '/api/prompts', { prompt: 'a lake' }],
        ['GET', '/status.json', undefined],
        ['GET', '/no/such/route', undefined],
      ] as const) {
        const response = await call(server.url, method, path, { token: TOKEN, ...(body === undefined ? {} : { body }) });
        assert.equal(response.status, 403, `${method} ${path}`);
        assert.equal(response.json.error.code, 'Forbidden');
        assert.match(response.json.error.dev_message, /127\.0\.0\.1 is outside allowed_networks/);
      }
      assert.equal(server.prompts.list().length, 1, 'the refused add changed nothing');
      const warnings = server.logs.filter((record) => record.message.includes('refused a client outside allowed_networks'));
      assert.equal(warnings.length, 1, 'one warning per address, not one per request');
    } finally {
      await server.dispose();
    }
  });

  test('a list with the client in it lets it through; the default list holds loopback', async () => {
    for (const optionsYaml of [`allowed_networks: [127.0.0.1]\n`, '']) {
      const server = await startTestServer({ optionsYaml });
      try {
        assert.equal((await call(server.url, 'GET', '/api/summary')).status, 200);
      } finally {
        await server.dispose();
      }
    }
  });

  test('a bad network or an empty list stops start-up with one line naming the key', async () => {
    for (const [yaml, expected] of [
      ['allowed_networks:\n  - 192.168.1.0/24\n  - 10.1/8\n', /options\.yml: allowed_networks\.1: expected a network like 192\.168\.1\.0\/24 or fd00::\/8, or one address, got "10\.1\/8"$/],
      ['allowed_networks:\n  - 192.168.1.0/33\n', /allowed_networks\.0: expected a network/],
      ['allowed_networks:\n  - fd00::/200\n', /allowed_networks\.0: expected a network/],
      ['allowed_networks: []\n', /allowed_networks: expected at least one network/],
      ['allowed_networks: 10.0.0.0/8\n', /allowed_networks: expected a list of networks/],
    ] as const) {
      await assert.rejects(startTestServer({ optionsYaml: yaml }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, expected);
        assert.equal(error.message.includes('\n'), false, 'one line');
        return true;
      });
    }
  });
});

describe('admin token', () => {
  test('writes need the token: none, a wrong one or a malformed header get 401; reads are open', async () => {
    const server = await startTestServer({ optionsYaml: TOKEN_OPTIONS });
    try {
      for (const headers of [{} as Record<string, string>, { Authorization: 'Bearer wrong-token-wrong-token' }, { Authorization: `Bearer ${TOKEN}x` }, { Authorization: TOKEN }, { Authorization: `Basic ${TOKEN}` }]) {
        const response = await call(server.url, 'GET', '/api/auth', { headers });
        assert.equal(response.status, 401, JSON.stringify(headers));
        assert.equal(response.json.error.code, 'Unauthorized');
        assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm="aiframe-server"/);
      }
      assert.equal((await call(server.url, 'GET', '/api/auth', { token: TOKEN })).status, 204);
      assert.equal((await call(server.url, 'GET', '/api/auth', { headers: { Authorization: `bearer   ${TOKEN}` } })).status, 204, 'scheme case and spacing');
      assert.equal((await call(server.url, 'GET', '/api/prompts')).status, 200, 'reads need no token');
      // The frame's own routes stay open: the firmware cannot send a token.
      assert.equal((await call(server.url, 'POST', '/prompt/add', { body: { prompt: 'a frame prompt' } })).status, 201);
      const wrongTokenLines = server.logs.filter((record) => JSON.stringify(record).includes('wrong-token-wrong-token'));
      assert.deepEqual(wrongTokenLines, [], 'a presented token is never logged');
    } finally {
      await server.dispose();
    }
  });

  test('AIFRAME_ADMIN_TOKEN is used when options.yml sets none; options.yml wins over it', async () => {
    const fromEnvironment = 'environment-token-0123456789';
    const server = await startTestServer({ environment: { AIFRAME_ADMIN_TOKEN: fromEnvironment } });
    try {
      assert.equal((await call(server.url, 'GET', '/api/auth', { token: fromEnvironment })).status, 204);
      await assert.rejects(stat(join(server.config.paths.dataDir, 'admin-token')), /ENOENT/, 'nothing generated');
      assert.equal(server.logs.some((record) => JSON.stringify(record).includes(fromEnvironment)), false);
    } finally {
      await server.dispose();
    }
    const both = await startTestServer({ optionsYaml: TOKEN_OPTIONS, environment: { AIFRAME_ADMIN_TOKEN: fromEnvironment } });
    try {
      assert.equal((await call(both.url, 'GET', '/api/auth', { token: TOKEN })).status, 204);
      assert.equal((await call(both.url, 'GET', '/api/auth', { token: fromEnvironment })).status, 401);
    } finally {
      await both.dispose();
    }
  });

  test('a short token is refused at start-up without showing it', async () => {
    await assert.rejects(startTestServer({ optionsYaml: 'admin_token: short-secret\n' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /options\.yml: admin_token: expected at least 16 characters/);
      assert.equal(error.message.includes('short-secret'), false);
      return true;
    });
    await assert.rejects(startTestServer({ optionsYaml: 'admin_token: "with spaces in the token"\n' }), /admin_token: expected at least 16 characters/);
    await assert.rejects(startTestServer({ environment: { AIFRAME_ADMIN_TOKEN: 'tiny-secret' } }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, 'AIFRAME_ADMIN_TOKEN: expected at least 16 characters: letters, digits and punctuation, no spaces');
      return true;
    });
  });

  test('without one, a token is generated once into data/admin-token, shown once on the console (never logged), and reused after a restart', async () => {
    const first = await startTestServer();
    const root = first.root;
    const file = join(first.config.paths.dataDir, 'admin-token');
    let token: string;
    try {
      token = (await readFile(file, 'utf8')).trim();
      assert.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
      assert.equal((await stat(file)).mode & 0o777, 0o600, 'owner-only');
      const shown = first.terminalLines.filter((line) => line.includes(token));
      assert.equal(shown.length, 1, 'shown exactly once');
      assert.match(shown[0] ?? '', /admin token generated/);
      assert.equal(first.logs.filter((record) => JSON.stringify(record).includes(token)).length, 0, 'never in the log');
      assert.ok(first.logs.some((record) => /admin token generated.*not in the log/.test(record.message)), 'the log says where it was shown');
      assert.equal((await call(first.url, 'GET', '/api/auth', { token })).status, 204);
      // Activity that logs: a refused write, a generation, an added prompt.
      await call(first.url, 'POST', '/api/prompts', { token, body: { prompt: 'logged activity' } });
      await call(first.url, 'POST', '/api/prompts', { token: `${token}!`, body: { prompt: 'refused' } });
      assert.equal(first.logs.filter((record) => JSON.stringify(record).includes(token)).length, 0, 'still never in the log');
      assert.equal(first.terminalLines.filter((line) => line.includes(token)).length, 1, 'and shown only that once');
    } finally {
      await first.close();
    }
    const second = await startTestServer({ root });
    try {
      assert.equal((await readFile(file, 'utf8')).trim(), token, 'the same token');
      assert.equal((await call(second.url, 'GET', '/api/auth', { token })).status, 204);
      assert.equal(second.logs.some((record) => JSON.stringify(record).includes(token)), false, 'not logged');
      assert.equal(second.terminalLines.some((line) => line.includes(token)), false, 'not shown again');
      assert.ok(second.logs.some((record) => record.message.startsWith('admin token: read from')));
    } finally {
      await second.dispose();
    }
  });
});
