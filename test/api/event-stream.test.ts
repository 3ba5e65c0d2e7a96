/** The event-stream plumbing on its own: heartbeats and clean-up, on a tiny real server. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import Koa from 'koa';
import { EventStreams, type EventStream } from '../../src/http/api/event-stream.js';
import { closeServer, listenOnLoopback } from '../support/fake-http-kit.js';
import { eventually } from '../support/generate-request.js';
import { openEvents } from './api-client.js';

async function serve(streams: EventStreams, onOpen: (stream: EventStream) => void): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Koa();
  app.silent = true; // a client that leaves mid-stream is normal here, as in createApp
  app.use((ctx) => onOpen(streams.open(ctx)));
  const server = createServer(app.callback());
  return { url: await listenOnLoopback(server), close: () => closeServer(server) };
}

describe('EventStreams', () => {
  test('an idle stream gets heartbeat comments; events are one data line each', async () => {
    const streams = new EventStreams({ heartbeatMs: 20 });
    const server = await serve(streams, (stream) => stream.send('greeting', { text: 'line one\nline two' }));
    try {
      const events = await openEvents(server.url);
      assert.deepEqual(await events.next(), { event: 'greeting', data: { text: 'line one\nline two' } });
      assert.deepEqual(await events.next(), { event: 'comment', data: 'ping' });
      events.close();
      await eventually(() => streams.size === 0, 'the stream is forgotten');
    } finally {
      await streams.closeAll();
      await server.close();
    }
  });

  test('clean-ups run once, whoever ends the stream; closeAll ends every stream', async () => {
    const streams = new EventStreams();
    let cleaned = 0;
    const server = await serve(streams, (stream) => {
      stream.onClose(() => (cleaned += 1));
      stream.send(undefined, 'hello');
    });
    try {
      const readers = await Promise.all([openEvents(server.url), openEvents(server.url)]);
      for (const reader of readers) assert.deepEqual(await reader.next(), { event: 'message', data: 'hello' });
      assert.equal(streams.size, 2);
      await streams.closeAll();
      assert.equal(streams.size, 0);
      assert.equal(cleaned, 2);
      for (const reader of readers) assert.equal(await reader.next(), undefined, 'ended by the server');
    } finally {
      await server.close();
    }
  });
});
