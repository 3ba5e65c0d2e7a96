import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAppLogger } from '../../src/logging/create-logger.js';
import { SecretRegistry } from '../../src/logging/secret-registry.js';

const roots: string[] = [];
after(async () => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

describe('logger', () => {
  test('writes level-filtered lines to log/ and never a registered secret', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aiframe-log-'));
    roots.push(dir);
    const secrets = new SecretRegistry();
    secrets.add('AQVN-super-secret-key-123');
    const logger = createAppLogger({ level: 'info', dir, secrets, console: false });
    logger.debug('not written at info');
    logger.info('remote said: bad key AQVN-super-secret-key-123', { header: 'Api-Key AQVN-super-secret-key-123', nested: { list: ['AQVN-super-secret-key-123'] } });
    logger.error('boom', { error: new Error('key AQVN-super-secret-key-123 refused') });
    await logger.close();
    const text = await readFile(join(dir, 'aiframe-server.log'), 'utf8');
    assert.equal(text.includes('not written'), false);
    assert.equal(text.includes('AQVN-super-secret-key-123'), false);
    assert.match(text, /remote said: bad key \[redacted\]/);
    assert.equal(text.trim().split('\n').length, 2);
  });

  test('rotates files at the size bound and keeps a bounded count', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aiframe-log-'));
    roots.push(dir);
    const logger = createAppLogger({ level: 'info', dir, secrets: new SecretRegistry(), console: false, maxBytes: 2000, maxFiles: 3 });
    for (let i = 0; i < 200; i += 1) {
      logger.info(`line ${i} ${'x'.repeat(80)}`);
      // winston rotates asynchronously; let each rotation finish before more lines arrive.
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 15));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    await logger.close();
    const files = await readdir(dir);
    assert.ok(files.length >= 2 && files.length <= 3, `files: ${files.join(', ')}`);
  });
});
