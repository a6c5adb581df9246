// Fetching a remote image without becoming a proxy into the network we run in.
//
// Only https, only allow-listed hosts; every address the name resolves to must be public
// (no loopback, private, link-local, CGNAT, metadata, multicast or reserved ranges, IPv4-mapped
// or NAT64 forms included); the connection is pinned to the vetted address (no DNS rebinding
// between check and connect); redirects are followed by hand and each hop is checked again;
// the body is capped in size and the whole fetch in time.
import dns from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const blocked = new net.BlockList();
for (const [addr, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24],
  ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as [string, number][]) blocked.addSubnet(addr, prefix, 'ipv4');
for (const [addr, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
  ['2001:db8::', 32], ['100::', 64], ['2001::', 23],
] as [string, number][]) blocked.addSubnet(addr, prefix, 'ipv6');

export class BlockedRequestError extends Error {}

function embeddedIpv4(ip: string): string | null {
  // ::ffff:a.b.c.d, ::a.b.c.d and 64:ff9b::a.b.c.d all reach an IPv4 host.
  const lower = ip.toLowerCase();
  const dotted = lower.match(/^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted?.[1]) return dotted[1];
  const hex = lower.match(/^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/);
  if (hex?.[1] && hex[2]) {
    const a = parseInt(hex[1], 16);
    const b = parseInt(hex[2], 16);
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  return null;
}

export function isPublicAddress(ip: string): boolean {
  const family = net.isIP(ip);
  if (family === 4) return !blocked.check(ip, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(ip);
    if (v4) return !blocked.check(v4, 'ipv4');
    return !blocked.check(ip, 'ipv6') && !ip.toLowerCase().startsWith('::ffff:');
  }
  return false;
}

export interface FetchOptions {
  allowHosts: string[];
  allowHttp: boolean;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  isAllowedAddress: (address: string) => boolean;
}

// The address a request connects to: vetted once, pinned for the connection.
interface Target { hostname: string; address: string; family: number }

function hostAllowed(hostname: string, allowHosts: string[]): boolean {
  return allowHosts.some((pattern) => (pattern.startsWith('*.')
    ? hostname.endsWith(pattern.slice(1)) : hostname === pattern));
}

async function vet(url: URL, opts: FetchOptions): Promise<Target> {
  if (url.protocol !== 'https:' && !(opts.allowHttp && url.protocol === 'http:')) {
    throw new BlockedRequestError(`${url.protocol} URLs are not allowed (https only)`);
  }
  if (url.username || url.password) throw new BlockedRequestError('URLs with credentials are not allowed');
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (!hostAllowed(hostname, opts.allowHosts)) {
    throw new BlockedRequestError(`host ${hostname} is not on the image host allowlist`);
  }
  const addresses = net.isIP(hostname)
    ? [{ address: hostname, family: net.isIP(hostname) }]
    : await dns.lookup(hostname, { all: true, verbatim: true });
  const first = addresses[0];
  if (!first) throw new BlockedRequestError(`${hostname} does not resolve`);
  for (const { address } of addresses) {
    if (!opts.isAllowedAddress(address)) {
      throw new BlockedRequestError(`${hostname} resolves to ${address}, which is not a public address`);
    }
  }
  return { hostname, address: first.address, family: first.family };
}

type Answer = { body: Buffer; redirect?: undefined } | { redirect: URL; body?: undefined };

function requestOnce(url: URL, target: Target, opts: FetchOptions, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, {
      method: 'GET', signal, headers: { 'user-agent': 'smm-render-image/1', accept: 'image/*' },
      // Connect to the address we vetted, whatever DNS says by now.
      lookup: (_host, options, callback) => (options && options.all
        ? callback(null, [{ address: target.address, family: target.family }])
        : callback(null, target.address, target.family)),
      servername: net.isIP(target.hostname) ? undefined : target.hostname,
    }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        resolve({ redirect: new URL(res.headers.location, url) });
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new Error(`${url.host} answered ${status}`));
        return;
      }
      const declared = Number(res.headers['content-length'] || 0);
      if (declared > opts.maxBytes) {
        res.destroy();
        reject(new BlockedRequestError(`image is ${declared} bytes, over ${opts.maxBytes}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > opts.maxBytes) {
          res.destroy();
          reject(new BlockedRequestError(`image is over ${opts.maxBytes} bytes`));
        } else chunks.push(chunk);
      });
      res.on('end', () => resolve({ body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function guardedFetch(rawUrl: string, options: Partial<FetchOptions> = {}): Promise<Buffer> {
  const opts: FetchOptions = {
    allowHosts: [], allowHttp: false, maxBytes: 10 * 1024 * 1024, timeoutMs: 5000,
    maxRedirects: 3, isAllowedAddress: isPublicAddress, ...options,
  };
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let url = new URL(rawUrl);
  for (let hop = 0; hop <= opts.maxRedirects; hop += 1) {
    const target = await vet(url, opts);
    const answer = await requestOnce(url, target, opts, signal);
    if (answer.body) return answer.body;
    url = answer.redirect;
  }
  throw new BlockedRequestError(`more than ${opts.maxRedirects} redirects`);
}
