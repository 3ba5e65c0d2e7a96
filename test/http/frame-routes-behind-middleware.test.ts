/**
 * The frame's routes with everything the page added in front of them (allowed_networks, the
 * refusal of cross-site writes, the web page at `/`): the same bytes and error shapes as
 * before, over HTTP/1.1 and HTTP/1.0 (../shared/firmware-contract.md).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { rawRequest } from '../support/raw-http.js';
import { startTestServer, waitForOperation, type TestServer } from '../support/test-server.js';

const FRAME_HEADERS = { 'Content-Type': 'application/json', Accept: '*/*' };

function http10(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (part: string) => (text += part));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('frame routes behind the page\'s middleware', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.dispose());

  test('wrong methods and unknown paths answer 405/404 in the upstream error shape, canonical header names', async () => {
    for (const [method, path, status, allow] of [
      ['GET', '/operation/start', 405, 'POST'],
      ['GET', '/prompt/add', 405, 'POST'],
      ['POST', '/operation/result/abc', 405, 'HEAD, GET'],
      ['POST', '/', 405, 'HEAD, GET'],
      ['GET', '/operation/nothing', 404, undefined],
      ['POST', '/operation/start/extra', 404, undefined],
    ] as const) {
      const response = await rawRequest(server.port, method, path, method === 'POST' ? '{"type":"auto"}' : undefined, FRAME_HEADERS);
      assert.equal(response.status, status, `${method} ${path}`);
      assert.equal(response.header('allow'), allow, `${method} ${path}`);
      const body = JSON.parse(response.body.toString()) as { error: Record<string, unknown> };
      assert.deepEqual(Object.keys(body.error), ['code', 'message', 'dev_message']);
      for (const line of response.headerLines) {
        const name = line.slice(0, line.indexOf(':'));
        if (/^content-(type|length)$/i.test(name)) assert.ok(['Content-Type', 'Content-Length'].includes(name), `header spelled ${name}`);
      }
    }
  });

  test('an HTTP/1.0 frame starts, polls and reads its picture with Content-Length', async () => {
    const body = '{"type":"auto"}';
    const started = await http10(server.port, `POST /operation/start HTTP/1.0\r\nContent-Type: application/json\r\nAccept: */*\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const [head = '', json = ''] = started.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200 OK/);
    const match = /^\{"id":"([A-Za-z0-9_-]+)","status":"pending"\}$/.exec(json);
    assert.ok(match, json);
    const id = match[1] as string;
    assert.equal(await waitForOperation(server.url, id), 'done');
    const result = await http10(server.port, `GET /operation/result/${id}?chunk_size=300 HTTP/1.0\r\n\r\n`);
    const [resultHead = '', resultBody = ''] = result.split('\r\n\r\n');
    assert.doesNotMatch(resultHead, /Transfer-Encoding/i);
    assert.equal(Number(/\r\nContent-Length: (\d+)/.exec(resultHead)?.[1]), Buffer.byteLength(resultBody, 'latin1'));
    assert.match(resultBody, new RegExp(`^\\{"id":"${id}","status":"done","response":\\{"image":"[A-Za-z0-9+/]+={0,2}"\\}\\}$`));
  });

  test('an unknown id still answers 200 with status error, never a cache header the frame could trip on', async () => {
    const response = await rawRequest(server.port, 'GET', '/operation/result/no-such-id', undefined, FRAME_HEADERS);
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), '{"id":"no-such-id","status":"error"}');
    assert.equal(response.header('etag'), undefined);
  });
});
