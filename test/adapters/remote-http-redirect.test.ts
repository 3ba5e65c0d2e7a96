/** Credentials the shared HTTP layer sends stay with the configured server when it redirects elsewhere. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteHttp } from '../../src/providers/http/remote-http.js';
import { samplePicture, sendBytes, startFakeServer, type FakeServer, type RecordedRequest } from '../support/fake-http-kit.js';

describe('RemoteHttp redirects', () => {
  test('a redirect to another origin carries none of the configured headers; one on the same origin keeps them', async () => {
    const picture = await samplePicture('png');
    const elsewhere: RecordedRequest[] = [];
    const cdn = await startFakeServer((request, response) => {
      elsewhere.push(request);
      sendBytes(response, 200, picture, 'image/png');
    });
    const home: RecordedRequest[] = [];
    let server: FakeServer | undefined;
    server = await startFakeServer((request, response) => {
      home.push(request);
      if (request.path === '/files/away.png') {
        response.writeHead(302, { Location: `${cdn.url.replace('127.0.0.1', 'localhost')}/pic.png` });
        response.end();
      } else if (request.path === '/files/here.png') {
        response.writeHead(302, { Location: `${server?.url ?? ''}/files/moved.png` });
        response.end();
      } else {
        sendBytes(response, 200, picture, 'image/png');
      }
    });
    try {
      const http = new RemoteHttp({
        baseUrl: server.url,
        headers: { 'X-API-KEY': 'fooocus-secret-key', 'OpenAI-Organization': 'org-secret', Authorization: 'Bearer sk-secret' },
      });
      const away = await http.fetchBytes({ path: '/files/away.png' });
      assert.deepEqual(away.body, picture);
      assert.equal(elsewhere.length, 1);
      const leaked = Object.entries(elsewhere[0]?.headers ?? {}).filter(([name]) => ['x-api-key', 'openai-organization', 'authorization'].includes(name));
      assert.deepEqual(leaked, [], 'the key stays with the configured server');

      await http.fetchBytes({ path: '/files/here.png' });
      const moved = home.find((request) => request.path === '/files/moved.png');
      assert.equal(moved?.headers['x-api-key'], 'fooocus-secret-key', 'a redirect on the same server keeps the key');
    } finally {
      await server.close();
      await cdn.close();
    }
  });
});
