/** Quiet hours and per-provider rules through the real server, on an injected clock. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { readJpegInfo } from '../../src/render/jpeg-info.js';
import { ManualClock } from '../../src/util/clock.js';
import { FixedBytesProvider } from '../support/test-providers.js';
import { startAndWait, startTestServer } from '../support/test-server.js';

async function resultJpeg(url: string, id: string): Promise<Buffer> {
  const body = (await (await fetch(`${url}/operation/result/${id}`)).json()) as { response: { image: string } };
  return Buffer.from(body.response.image, 'base64');
}

const QUIET = `image_generate_threshold: 0
sleep_time:
  - time_range:
      start_time: "22:30"
      end_time: "06:15:30"
    black_image_mode: BLACK
`;

describe('quiet hours', () => {
  test('black_image_mode: auto gets a black, baseline, frame-sized JPEG across midnight; ydart still generates', async () => {
    const clock = new ManualClock(new Date(2026, 0, 15, 23, 0));
    const provider = new FixedBytesProvider('fixed', await sharp({ create: { width: 320, height: 480, channels: 3, background: '#ff8800' } }).jpeg().toBuffer());
    const server = await startTestServer({ clock, extraProviders: [provider], optionsYaml: QUIET.replace('BLACK', 'true') });
    try {
      for (const at of [new Date(2026, 0, 15, 23, 0), new Date(2026, 0, 16, 0, 0), new Date(2026, 0, 16, 6, 15, 30)]) {
        clock.set(at);
        const id = await startAndWait(server.url, { type: 'auto' });
        const jpeg = await resultJpeg(server.url, id);
        const info = readJpegInfo(jpeg);
        assert.equal(info?.baseline, true);
        assert.deepEqual([info?.width, info?.height], [320, 480]);
        const stats = await sharp(jpeg).stats();
        assert.ok(stats.channels.every((channel) => channel.max <= 8), `black at ${at.toTimeString()}`);
      }
      assert.equal(provider.calls.length, 0, 'no provider call in quiet hours for auto');
      await startAndWait(server.url, { type: 'ydart' });
      assert.equal(provider.calls.length, 1, 'ydart still generates (upstream rule)');
      clock.set(new Date(2026, 0, 16, 6, 15, 31));
      await startAndWait(server.url, { type: 'auto' });
      assert.equal(provider.calls.length, 2, 'after quiet hours, auto generates again');
    } finally {
      await server.dispose();
    }
  });

  test('without black_image_mode, auto serves a stored picture in quiet hours', async () => {
    const clock = new ManualClock(new Date(2026, 0, 15, 12, 0));
    const provider = new FixedBytesProvider('fixed', await sharp({ create: { width: 320, height: 480, channels: 3, background: '#2288ff' } }).jpeg().toBuffer());
    const server = await startTestServer({ clock, extraProviders: [provider], optionsYaml: QUIET.replace('BLACK', 'false') });
    try {
      await startAndWait(server.url, { type: 'auto' });
      clock.set(new Date(2026, 0, 16, 2, 0));
      const id = await startAndWait(server.url, { type: 'auto' });
      assert.equal(provider.calls.length, 1);
      assert.equal(server.frames.get(id)?.source, 'library');
    } finally {
      await server.dispose();
    }
  });
});

describe('per-provider rules through the server', () => {
  test('auto picks only among providers ready by every rule; the daily limit holds across a restart', async () => {
    const clock = new ManualClock(new Date(2026, 0, 15, 12, 0));
    const bytes = await sharp({ create: { width: 320, height: 480, channels: 3, background: '#44aa44' } }).jpeg().toBuffer();
    const limited = new FixedBytesProvider('limited', bytes);
    const sleepy = new FixedBytesProvider('sleepy', bytes);
    const options = `image_generate_threshold: 0
providers:
  limited:
    daily_limit: 2
  sleepy:
    sleep_time:
      - time_range: { start_time: "11:00", end_time: "13:00" }
  disabled:
    image_generate_threshold: 5
disabled_providers: [disabled]
`;
    // `limited` and `sleepy` are test providers plugged in through the seam; their rules come from options.yml.
    const first = await startTestServer({ clock, extraProviders: [limited, sleepy], optionsYaml: options });
    try {
      for (let i = 0; i < 3; i += 1) await startAndWait(first.url, { type: 'ydart' });
      assert.equal(sleepy.calls.length, 0, 'sleepy is in its sleep hours');
      assert.equal(limited.calls.length, 2, 'limited stops at its daily limit; the third start gets a stored picture');
    } finally {
      await first.close();
    }
    const second = await startTestServer({ clock, extraProviders: [limited, sleepy], optionsYaml: options, root: first.root });
    try {
      await startAndWait(second.url, { type: 'ydart' });
      assert.equal(limited.calls.length, 2, 'the daily count survived the restart');
      clock.set(new Date(2026, 0, 15, 13, 0, 1));
      await startAndWait(second.url, { type: 'ydart' });
      assert.equal(sleepy.calls.length, 1, 'sleepy wakes up');
    } finally {
      await second.dispose();
    }
  });
});
