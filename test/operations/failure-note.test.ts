import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError, type ProviderResult } from '../../src/providers/types.js';
import { HangingProvider } from '../support/test-providers.js';
import { startAndWait, startTestServer } from '../support/test-server.js';

const SECRET = 'admin-token-0123456789-abcdef';

/** A provider whose error text carries a secret, as a careless remote API might echo a key. */
class LeakyProvider extends HangingProvider {
  constructor() {
    super('leaky');
  }
  protected override async respond(): Promise<ProviderResult> {
    throw new ProviderError(`remote said: unknown key ${SECRET}`);
  }
}

test('a failure note shown outside the log carries no registered secret', async () => {
  const server = await startTestServer({ extraProviders: [new LeakyProvider()], environment: { AIFRAME_ADMIN_TOKEN: SECRET } });
  try {
    const id = await startAndWait(server.url, { type: 'leaky', prompt: 'anything' });
    const note = server.frames.get(id)?.note ?? '';
    assert.match(note, /generation failed: remote said: unknown key \[redacted\]/);
    const generation = await (await fetch(`${server.url}/api/generations/${id}`)).text();
    assert.ok(!generation.includes(SECRET), generation);
  } finally {
    await server.dispose();
  }
});
