import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ALLOWED_NETWORKS, isNetworkText } from '../../src/config/options-schema.js';
import { NetworkAllowlist } from '../../src/http/access/network-allowlist.js';
import { createTokenCheck } from '../../src/http/access/token-check.js';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import { allowedNetworks } from '../../src/http/access/allowed-networks.js';
import { createMemoryLogger } from '../../src/util/logger.js';

describe('NetworkAllowlist', () => {
  const defaults = new NetworkAllowlist(DEFAULT_ALLOWED_NETWORKS);

  test('the default list: private ranges, loopback and link-local, IPv4 and IPv6', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.20', '169.254.10.10', '::1', 'fd12:3456::1', 'fe80::1%eth0']) {
      assert.equal(defaults.allows(address), true, address);
    }
    for (const address of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '100.64.0.1', '2001:db8::1', '2a00:1450::1', '::', 'not-an-address', undefined]) {
      assert.equal(defaults.allows(address), false, String(address));
    }
  });

  test('IPv4 clients on a dual-stack socket arrive IPv4-mapped and still match IPv4 networks', () => {
    assert.equal(defaults.allows('::ffff:192.168.1.20'), true);
    assert.equal(defaults.allows('::ffff:127.0.0.1'), true);
    assert.equal(defaults.allows('::ffff:8.8.8.8'), false);
    const mappedRange = new NetworkAllowlist(['::ffff:192.168.0.0/112']);
    assert.equal(mappedRange.allows('192.168.44.1'), true, 'a mapped range means IPv4 clients');
    assert.equal(mappedRange.allows('::ffff:192.168.44.1'), true);
    assert.equal(mappedRange.allows('192.169.0.1'), false);
  });

  test('single addresses and catch-all networks', () => {
    const one = new NetworkAllowlist(['192.168.1.5', '2001:db8::5']);
    assert.equal(one.allows('192.168.1.5'), true);
    assert.equal(one.allows('192.168.1.6'), false);
    assert.equal(one.allows('2001:db8::5'), true);
    assert.equal(one.allows('2001:db8::6'), false);
    const everyone = new NetworkAllowlist(['0.0.0.0/0', '::/0']);
    assert.equal(everyone.allows('8.8.8.8'), true);
    assert.equal(everyone.allows('2a00:1450::1'), true);
  });

  test('network texts the options accept', () => {
    for (const text of ['10.0.0.0/8', '192.168.1.5', 'fd00::/8', '::1', '::ffff:10.0.0.0/104']) assert.equal(isNetworkText(text), true, text);
    for (const text of ['10.1/8', '10.0.0.0/33', '10.0.0.0/8/1', 'fe80::/129', 'fe80::1%eth0', 'localhost', '', '/8']) assert.equal(isNetworkText(text), false, text);
  });
});

describe('token check', () => {
  test('accepts only the exact token, whatever the length of a guess', () => {
    const check = createTokenCheck('the-real-admin-token-123');
    assert.equal(check('the-real-admin-token-123'), true);
    for (const guess of ['', 't', 'the-real-admin-token-12', 'the-real-admin-token-1234', 'THE-REAL-ADMIN-TOKEN-123', 'x'.repeat(10_000)]) {
      assert.equal(check(guess), false, guess.slice(0, 30));
    }
  });
});

describe('allowedNetworks middleware', () => {
  test('a socket that reports no address (already closed) is refused, and the route never runs', async () => {
    const logger = createMemoryLogger();
    const guard = allowedNetworks(DEFAULT_ALLOWED_NETWORKS, logger);
    const app = new Koa();
    for (let i = 0; i < 2; i++) {
      // A socket never connected has no remoteAddress, as one the client reset has not.
      const request = new IncomingMessage(new Socket());
      request.method = 'POST';
      request.url = '/operation/start';
      const ctx = app.createContext(request, new ServerResponse(request));
      let reached = false;
      await guard(ctx, async () => {
        reached = true;
      });
      assert.equal(reached, false);
      assert.equal(ctx.status, 403);
      assert.match(String(ctx.body), /unknown is outside allowed_networks/);
    }
    assert.equal(logger.records.filter((record) => record.level === 'warn').length, 1, 'warned once');
  });
});
