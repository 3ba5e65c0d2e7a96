import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HangingProvider } from '../support/test-providers.js';
import { startAndWait, startTestServer } from '../support/test-server.js';

/** A provider that says how long its generations may take (YandexART's max_wait_minutes). */
class PatientProvider extends HangingProvider {
  constructor(readonly generationTimeoutMs: number) {
    super('patient');
  }
}

test("a provider's own generation timeout replaces the server-wide one", async () => {
  // Server-wide 15 minutes; this provider allows 300 ms, so the frame gets its fallback at once.
  const patient = new PatientProvider(300);
  const server = await startTestServer({ optionsYaml: 'generation_timeout_minutes: 15\n', extraProviders: [patient] });
  try {
    const id = await startAndWait(server.url, { type: 'patient', prompt: 'a slow picture' });
    const operation = server.frames.get(id);
    assert.equal(operation?.status, 'done', 'the frame still gets a picture');
    assert.match(operation?.note ?? '', /generation took longer than 0\.3 s/);
  } finally {
    await server.dispose();
  }
});
