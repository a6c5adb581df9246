// SSRF: a loopback canary server must never receive a request, whatever the URL's disguise.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { BlockedRequestError, guardedFetch, isPublicAddress } from '../dist/ssrf.mjs';

let canaryHits = 0;
let redirectorHits = 0;
const canary = { server: http.createServer((req, res) => { canaryHits += 1; res.end('secret'); }), port: 0 };
const redirector = {
  server: http.createServer((req, res) => {
    redirectorHits += 1;
    res.writeHead(302, { location: `http://127.0.0.1:${canary.port}/latest/meta-data/` });
    res.end();
  }),
  port: 0,
};

function listen(server: http.Server, host: string): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => {
    const address = server.address();
    resolve(typeof address === 'object' && address !== null ? address.port : 0);
  }));
}

before(async () => {
  canary.port = await listen(canary.server, '127.0.0.1');
  redirector.port = await listen(redirector.server, '127.0.0.2');
});

after(() => {
  canary.server.close();
  redirector.server.close();
});

const blocked = (promise: Promise<unknown>): Promise<void> => assert.rejects(promise, BlockedRequestError);

test('direct loopback is refused even when the host is allow-listed', async () => {
  await blocked(guardedFetch(`http://127.0.0.1:${canary.port}/`, { allowHttp: true, allowHosts: ['127.0.0.1'] }));
});

test('a decimal IP is the loopback address in disguise', async () => {
  await blocked(guardedFetch(`http://2130706433:${canary.port}/`, { allowHttp: true, allowHosts: ['127.0.0.1', '2130706433'] }));
});

test('an IPv4-mapped IPv6 address is refused', async () => {
  await blocked(guardedFetch(`http://[::ffff:127.0.0.1]:${canary.port}/`, { allowHttp: true, allowHosts: ['::ffff:7f00:1', '::ffff:127.0.0.1'] }));
});

test('a DNS name that resolves to loopback is refused after resolution', async () => {
  await blocked(guardedFetch(`http://localhost:${canary.port}/`, { allowHttp: true, allowHosts: ['localhost'] }));
});

test('a redirect to the canary is checked again and refused', async () => {
  // Only for this test, the redirector's own address counts as reachable.
  const policy = (ip: string): boolean => ip === '127.0.0.2';
  await blocked(guardedFetch(`http://127.0.0.2:${redirector.port}/image.png`, {
    allowHttp: true, allowHosts: ['127.0.0.2', '127.0.0.1'], isAllowedAddress: policy,
  }));
  assert.equal(redirectorHits, 1); // the first hop was really made: the redirect was followed
});

test('plain http and hosts off the allowlist are refused before any lookup', async () => {
  await blocked(guardedFetch(`http://127.0.0.1:${canary.port}/`, { allowHosts: ['127.0.0.1'] }));
  await blocked(guardedFetch('https://example.com/x.png', { allowHosts: ['cdn.example.com'] }));
  await blocked(guardedFetch('https://user:pw@cdn.example.com/x.png', { allowHosts: ['cdn.example.com'] }));
});

test('address policy covers private, link-local, metadata and mapped forms', () => {
  for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254',
    '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00:ec2::254', '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe', '64:ff9b::7f00:1', '224.0.0.1']) {
    assert.equal(isPublicAddress(ip), false, ip);
  }
  for (const ip of ['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111']) {
    assert.equal(isPublicAddress(ip), true, ip);
  }
});

test('the canary never saw a request', () => {
  assert.equal(canaryHits, 0);
});
