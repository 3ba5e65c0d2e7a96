/**
 * The frame protocol, point by point (../shared/firmware-contract.md), against the real
 * server over a raw socket, the way the AiFrame firmware talks to it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readJpegInfo } from '../../src/render/jpeg-info.js';
import { rawRequest } from '../support/raw-http.js';
import { startTestServer, waitForOperation, type TestServer } from '../support/test-server.js';
import { HangingProvider } from '../support/test-providers.js';

const FRAME_HEADERS = { 'Content-Type': 'application/json', Accept: '*/*' };
const ID = /^[A-Za-z0-9_-]{1,32}$/;
const ALLOWED_SPELLINGS: Record<string, readonly string[]> = {
  'content-type': ['Content-Type', 'content-type', 'CONTENT-TYPE'],
  'content-length': ['Content-Length', 'content-length', 'CONTENT-LENGTH'],
  'transfer-encoding': ['Transfer-Encoding', 'transfer-encoding', 'TRANSFER-ENCODING'],
};

function assertHeaderSpellings(headerLines: readonly string[]): void {
  for (const line of headerLines) {
    const name = line.slice(0, line.indexOf(':'));
    const allowed = ALLOWED_SPELLINGS[name.toLowerCase()];
    if (allowed) assert.ok(allowed.includes(name), `header spelled "${name}" is not one the firmware matches`);
  }
}

async function startFromFrame(server: TestServer, body: string): Promise<{ id: string; raw: Awaited<ReturnType<typeof rawRequest>> }> {
  const raw = await rawRequest(server.port, 'POST', '/operation/start', body, FRAME_HEADERS);
  assert.equal(raw.status, 200, raw.body.toString());
  const match = /^\{"id":"([A-Za-z0-9_-]+)","status":"pending"\}$/.exec(raw.body.toString());
  assert.ok(match, `start body was ${raw.body.toString()}`);
  return { id: match[1] as string, raw };
}

describe('frame protocol', () => {
  let server: TestServer;
  // Ready only inside the test that needs it, so `auto` never picks it elsewhere.
  const hanging = new HangingProvider('hang');
  hanging.ready = false;

  before(async () => {
    server = await startTestServer({ extraProviders: [hanging], optionsYaml: 'providers:\n  offline:\n    enabled: true\n' });
  });
  after(async () => {
    await server.dispose();
  });

  test('"Change" on a fresh install: start, poll, and a baseline 320x480 JPEG in 512-byte chunks', async () => {
    const { id, raw } = await startFromFrame(server, '{"type":"auto"}');
    assert.ok(raw.body.length < 200, 'the firmware parses the start answer into 200 bytes');
    assert.match(id, ID);
    assertHeaderSpellings(raw.headerLines);
    assert.equal(await waitForOperation(server.url, id), 'done');

    const result = await rawRequest(server.port, 'GET', `/operation/result/${id}`, undefined, FRAME_HEADERS);
    assert.equal(result.status, 200);
    assertHeaderSpellings(result.headerLines);
    assert.equal(result.header('transfer-encoding'), 'chunked');
    assert.match(result.header('content-type') ?? '', /^application\/json/);
    const sizes = result.chunkSizes ?? [];
    assert.ok(sizes.length > 10);
    assert.ok(sizes.slice(0, -1).every((size) => size === 512), `chunk sizes ${sizes.slice(0, 5).join(',')}...`);
    assert.ok((sizes.at(-1) ?? 0) <= 512);

    const text = result.body.toString('latin1');
    const prefix = `{"id":"${id}","status":"done","response":{"image":"`;
    assert.ok(text.startsWith(prefix), text.slice(0, 120));
    assert.ok(text.endsWith('"}}'));
    const base64 = text.slice(prefix.length, -3);
    assert.match(base64, /^[A-Za-z0-9+/]+={0,2}$/, 'standard base64 with padding, no line breaks, no data: prefix');
    assert.equal(base64.length % 4, 0);
    const jpeg = Buffer.from(base64, 'base64');
    const info = readJpegInfo(jpeg);
    assert.ok(info, 'a JPEG');
    assert.equal(info.baseline, true, 'baseline (SOF0), as TJpgDec needs');
    assert.equal(info.progressive, false);
    assert.equal(info.width, 320);
    assert.equal(info.height, 480);
    assert.ok(jpeg.length < 100 * 1024, `frame JPEG is ${jpeg.length} bytes`);
    // "Once a result body has started, it must flow without pauses" (gap limit 0.5 s).
    assert.ok(result.longestGapMs < 500, `a ${result.longestGapMs} ms pause inside the result`);
  });

  test('?chunk_size= sets the HTTP chunk size', async () => {
    const { id } = await startFromFrame(server, '{"type":"old"}');
    assert.equal(await waitForOperation(server.url, id), 'done');
    const result = await rawRequest(server.port, 'GET', `/operation/result/${id}?chunk_size=100`);
    const sizes = result.chunkSizes ?? [];
    assert.ok(sizes.slice(0, -1).every((size) => size === 100));
    const large = await rawRequest(server.port, 'GET', `/operation/result/${id}?chunk_size=4096`);
    assert.ok((large.chunkSizes ?? []).slice(0, -1).every((size) => size === 4096));
  });

  test('a start answers within 2 s while the provider hangs, and the result says pending', async () => {
    hanging.ready = true;
    const { id, raw } = await startFromFrame(server, '{"type":"hang"}').finally(() => {
      hanging.ready = false;
    });
    assert.ok(raw.firstByteMs < 2000, `start answered after ${raw.firstByteMs} ms`);
    const pending = await rawRequest(server.port, 'GET', `/operation/result/${id}`);
    assert.equal(pending.status, 200);
    assert.equal(pending.body.toString(), `{"id":"${id}","status":"pending"}`);
    assert.ok(pending.firstByteMs < 2000);
  });

  test('an unknown id answers 2xx with status error, so the frame forgets it', async () => {
    const result = await rawRequest(server.port, 'GET', '/operation/result/NoSuchOperation1');
    assert.equal(result.status, 200);
    assert.equal(result.body.toString(), '{"id":"NoSuchOperation1","status":"error"}');
  });

  test('ids are unique and URL-safe for many starts in the same second', async () => {
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => rawRequest(server.port, 'POST', '/operation/start', '{"type":"old"}', FRAME_HEADERS)),
    );
    const ids = answers.map((answer) => (JSON.parse(answer.body.toString()) as { id: string }).id);
    assert.equal(new Set(ids).size, 100);
    for (const id of ids) assert.match(id, ID);
  });

  test('"Add prompt to server" answers 201 {"status":"done"}', async () => {
    const result = await rawRequest(server.port, 'POST', '/prompt/add', '{"prompt":"a lighthouse in a storm"}', FRAME_HEADERS);
    assert.equal(result.status, 201);
    assert.equal(result.body.toString(), '{"status":"done"}');
    const saved = JSON.parse(await readFile(join(server.config.paths.dataDir, 'prompts.json'), 'utf8')) as { prompts: { prompt: string }[] };
    assert.ok(saved.prompts.some((entry) => entry.prompt === 'a lighthouse in a storm'));
  });

  test('"By prompt" generates from the typed prompt, uses it once and does not save it', async () => {
    const before = await readFile(join(server.config.paths.dataDir, 'prompts.json'), 'utf8');
    const { id } = await startFromFrame(server, '{"type":"ydart","prompt":"red fox in snow","negative":"blur"}');
    assert.equal(await waitForOperation(server.url, id), 'done');
    const operation = server.frames.get(id);
    assert.ok(operation?.pictureName);
    const picture = server.library.get(operation.pictureName);
    assert.equal(picture?.prompt, 'red fox in snow');
    assert.equal(await readFile(join(server.config.paths.dataDir, 'prompts.json'), 'utf8'), before);
  });
});

describe('result framing edge cases', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.dispose();
  });

  test('keep-alive: requests after a chunked result on the same connection still work', async () => {
    const { id } = await startFromFrame(server, '{"type":"auto"}');
    assert.equal(await waitForOperation(server.url, id), 'done');
    const { Agent, request } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string): Promise<{ body: string; socket: unknown }> =>
      new Promise((resolve, reject) => {
        request({ host: '127.0.0.1', port: server.port, path, agent }, (res) => {
          let body = '';
          res.setEncoding('latin1');
          res.on('data', (part: string) => (body += part));
          res.on('end', () => resolve({ body, socket: res.socket }));
        })
          .on('error', reject)
          .end();
      });
    const first = await get(`/operation/result/${id}?chunk_size=300`);
    const second = await get(`/operation/result/${id}`);
    const third = await get('/healthz');
    agent.destroy();
    assert.equal(first.socket, second.socket, 'the same connection was reused');
    assert.equal(first.body, second.body);
    assert.ok(first.body.endsWith('"}}'));
    assert.match(third.body, /"status":"ok"/);
  });

  test('an HTTP/1.0 client gets the body with Content-Length instead of chunks', async () => {
    const { id } = await startFromFrame(server, '{"type":"old"}');
    assert.equal(await waitForOperation(server.url, id), 'done');
    const { connect } = await import('node:net');
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.write(`GET /operation/result/${id} HTTP/1.0\r\n\r\n`));
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (part: string) => (text += part));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    const [head = '', body = ''] = raw.split('\r\n\r\n');
    assert.doesNotMatch(head, /Transfer-Encoding/i);
    assert.match(head, /Content-Length: (\d+)/);
    assert.equal(Number(/Content-Length: (\d+)/.exec(head)?.[1]), Buffer.byteLength(body, 'latin1'));
    assert.ok(body.startsWith(`{"id":"${id}","status":"done"`));
  });
});
