/** The optional HTTPS listener (upstream 1.03 firmware speaks HTTPS) beside plain HTTP. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/config-error.js';
import { startTestServer } from '../support/test-server.js';

function httpsPost(port: number, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', rejectUnauthorized: false, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('https', () => {
  test('with tls: {cert, key} the frame API answers over HTTPS too, and plain HTTP stays on', async () => {
    const root = await mkdtemp(join(tmpdir(), 'aiframe-tls-'));
    await mkdir(join(root, 'data'), { recursive: true });
    // A self-signed certificate made for the test (openssl is part of every Debian system).
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-keyout', join(root, 'data', 'key.pem'), '-out', join(root, 'data', 'cert.pem')], { stdio: 'ignore' });
    const server = await startTestServer({ root, optionsYaml: 'tls:\n  cert: cert.pem\n  key: key.pem\n  port: 0\n' });
    try {
      const plain = await fetch(`${server.url}/operation/start`, { method: 'POST', body: '{"type":"auto"}' });
      assert.equal(plain.status, 200);
      const tlsLine = server.logs.find((record) => record.message.startsWith('HTTPS listening'));
      const port = Number(/:(\d+) \(plain/.exec(tlsLine?.message ?? '')?.[1]);
      assert.ok(port > 0, 'the HTTPS port is logged');
      const secure = await httpsPost(port, '/operation/start', '{"type":"auto"}');
      assert.equal(secure.status, 200);
      assert.match(secure.body, /^\{"id":"[A-Za-z0-9_-]+","status":"pending"\}$/);
    } finally {
      await server.dispose();
    }
  });

  test('a missing certificate file is a clear start-up error', async () => {
    await assert.rejects(
      startTestServer({ optionsYaml: 'tls:\n  cert: /nonexistent/cert.pem\n  key: /nonexistent/key.pem\n' }),
      (error: unknown) => error instanceof ConfigError && /tls\.cert: cannot read \/nonexistent\/cert\.pem \(ENOENT\)/.test(error.message),
    );
  });
});
