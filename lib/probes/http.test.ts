// Only what no real service produces on demand runs in-process here: hung sockets, endless or huge
// bodies, non-JSON, redirect loops and lookalike hosts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CouldNotCheck } from '../core/errors';
import { affiliateUrlProblem } from '../../runbook/catalogue';
import { gzipSync } from 'node:zlib';
import { cachedLookup, get, json, walkRedirects } from './http';

const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const u = req.url ?? '/';
    if (u === '/hang') return; // accepts, never answers
    if (u === '/endless') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
      return; // never ends the body
    }
    if (u === '/huge') {
      res.writeHead(200);
      const chunk = Buffer.alloc(1024 * 1024, 'a');
      for (let i = 0; i < 10; i++) res.write(chunk);
      return res.end();
    }
    if (u === '/html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<html>502 Bad Gateway</html>');
    }
    if (u === '/loop/a') return res.writeHead(302, { location: '/loop/b' }).end();
    if (u === '/loop/b') return res.writeHead(302, { location: '/loop/a' }).end();
    if (u.startsWith('/chain/')) {
      const n = Number(u.split('/')[2]);
      return res
        .writeHead(302, { location: n > 0 ? `/chain/${n - 1}` : 'https://www.amazon.com/dp/X?tag=buywhere-20' })
        .end();
    }
    if (u === '/gzip-json')
      return res
        .writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' })
        .end(gzipSync('{"status":"ok"}'));
    if (u === '/gzip-bomb')
      return res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' }).end(bomb);
    if (u === '/multiple-choices')
      return res.writeHead(300, { location: 'https://www.amazon.com/dp/X?tag=buywhere-20' }).end();
    if (u === '/lookalike')
      return res.writeHead(302, { location: 'https://www.amazon.com.evil.example/dp/X?tag=buywhere-20' }).end();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('get', () => {
  it('a socket that accepts and never answers fails within its deadline', async () => {
    const t0 = performance.now();
    await expect(get(`${base}/hang`, { timeoutMs: 300 })).rejects.toThrow(/no complete answer within 300 ms/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('a body that never ends fails within its deadline', async () => {
    await expect(get(`${base}/endless`, { timeoutMs: 300 })).rejects.toBeInstanceOf(CouldNotCheck);
  });

  it('a 10 MB body is cut off at the cap', async () => {
    await expect(get(`${base}/huge`, { maxBodyBytes: 1024 * 1024 })).rejects.toThrow(/larger than 1048576 bytes/);
  });

  it('a refused port is CouldNotCheck naming the error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await expect(get(`http://127.0.0.1:${port}/health`, { timeoutMs: 1000 })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a compressed body is decoded, and bounded after decompression: a gzip bomb stops at the cap', async () => {
    expect(json(await get(`${base}/gzip-json`))).toEqual({ ok: true, value: { status: 'ok' } });
    expect(bomb.length).toBeLessThan(100 * 1024);
    await expect(get(`${base}/gzip-bomb`, { maxBodyBytes: 1024 * 1024 })).rejects.toThrow(
      /larger than 1048576 bytes once decompressed \(gzip\)/,
    );
  });

  it('non-JSON is an answer, described rather than parsed', async () => {
    const r = await get(`${base}/html`);
    const body = json(r);
    expect(body.ok).toBe(false);
    expect(!body.ok && body.problem).toMatch(/not JSON/);
  });
});

describe('walkRedirects', () => {
  const opts = () => ({ allowedOrigins: [base], timeoutMs: 1000 });

  it('follows hops on the target and stops, unrequested, at the first outside URL', async () => {
    const r = await walkRedirects(`${base}/chain/2`, opts());
    expect(r.hops).toHaveLength(3);
    expect(r.finalUrl).toBe('https://www.amazon.com/dp/X?tag=buywhere-20');
    expect(r.problem).toBeUndefined();
  });

  it('a loop is a problem, not a hang', async () => {
    const r = await walkRedirects(`${base}/loop/a`, opts());
    expect(r.problem).toMatch(/loop/);
  });

  it('exactly 5 redirects end on the outside URL; 6 are a problem', async () => {
    const five = await walkRedirects(`${base}/chain/4`, opts());
    expect(five.hops).toHaveLength(5);
    expect(five.problem).toBeUndefined();
    expect(five.finalUrl).toBe('https://www.amazon.com/dp/X?tag=buywhere-20');
    const six = await walkRedirects(`${base}/chain/5`, opts());
    expect(six.problem).toMatch(/more than 5 redirects/);
  });

  it('a 300 with a Location is not a redirect: the chain ends there, unfollowed', async () => {
    const r = await walkRedirects(`${base}/multiple-choices`, opts());
    expect(r.hops.map((h) => h.status)).toEqual([300]);
    expect(r.finalUrl).toBe(`${base}/multiple-choices`);
  });

  it('a lookalike host is not amazon.com', async () => {
    const r = await walkRedirects(`${base}/lookalike`, opts());
    expect(affiliateUrlProblem(r.finalUrl)).toMatch(/not amazon.com/);
  });
});

describe('cachedLookup', () => {
  const resolverOf = (answers: Array<Error | string[]>) => {
    const asked: string[] = [];
    const resolver = (
      host: string,
      _: unknown,
      done: (err: Error | null, found: Array<{ address: string; family: number }>) => void,
    ) => {
      asked.push(host);
      const a = answers[Math.min(asked.length - 1, answers.length - 1)]!;
      setImmediate(() =>
        a instanceof Error
          ? done(a, [])
          : done(
              null,
              a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
            ),
      );
    };
    return { asked, resolver };
  };
  const lookup = (l: ReturnType<typeof cachedLookup>, host: string, all: boolean) =>
    new Promise<unknown[]>((resolve) =>
      l(host, { all }, (err, address, family) => resolve([err?.message ?? null, address, family])),
    );

  it('asks the resolver once within its time, and answers both forms from that one answer', async () => {
    const { asked, resolver } = resolverOf([['::1', '127.0.0.1']]);
    const l = cachedLookup(60_000, resolver);
    expect(await lookup(l, 'localhost', false)).toEqual([null, '::1', 6]);
    expect(await lookup(l, 'localhost', false)).toEqual([null, '::1', 6]);
    expect(await lookup(l, 'localhost', true)).toEqual([
      null,
      [
        { address: '::1', family: 6 },
        { address: '127.0.0.1', family: 4 },
      ],
      undefined,
    ]);
    // The list form is a key of its own: asked once more, then kept too.
    expect(await lookup(l, 'localhost', true)).toHaveLength(3);
    expect(asked).toEqual(['localhost', 'localhost']);
  });

  it('asks again once its time is past: a name that moves is followed', async () => {
    const { asked, resolver } = resolverOf([['127.0.0.1'], ['127.0.0.2']]);
    const l = cachedLookup(0, resolver);
    expect(await lookup(l, 'api.internal', false)).toEqual([null, '127.0.0.1', 4]);
    expect(await lookup(l, 'api.internal', false)).toEqual([null, '127.0.0.2', 4]);
    expect(asked).toHaveLength(2);
  });

  it('keeps no failure: the next lookup asks again', async () => {
    const { asked, resolver } = resolverOf([new Error('getaddrinfo ENOTFOUND api.internal'), ['127.0.0.1']]);
    const l = cachedLookup(60_000, resolver);
    expect((await lookup(l, 'api.internal', false))[0]).toBe('getaddrinfo ENOTFOUND api.internal');
    expect(await lookup(l, 'api.internal', false)).toEqual([null, '127.0.0.1', 4]);
    expect(asked).toHaveLength(2);
  });
});
