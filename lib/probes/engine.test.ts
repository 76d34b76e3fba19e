// The engine's wire format against an in-process server on a unix socket: what a real engine will not do on
// demand (hang, answer HTML, answer without end) is what these cases need.
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CouldNotCheck } from '../core/errors';
import { engine, EngineError } from './engine';
import { engineReach } from './engine-reach';

let server: Server;
const socketPath = join(mkdtempSync(join(tmpdir(), 'engine-')), 'docker.sock');
const seen: Array<{ method?: string; url?: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url });
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/containers/json') return res.writeHead(200).end('[{"Id":"abc"}]');
    if (path === '/images/none/json') return res.writeHead(404).end('{"message":"No such image: none"}');
    if (path === '/containers/x/stop') return res.writeHead(204).end();
    if (path === '/services/s/update') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () =>
        res.writeHead(200).end(JSON.stringify({ got: JSON.parse(body), type: req.headers['content-type'] })),
      );
      return;
    }
    if (path === '/hang') return;
    if (path === '/html') return res.writeHead(200).end('<html>proxy error</html>');
    if (path === '/html-502') return res.writeHead(502, 'Bad Gateway').end('<html>proxy error</html>');
    if (path === '/huge') return res.writeHead(200).end(`[${'"x",'.repeat(100_000)}"x"]`);
    res.writeHead(500).end('{"message":"unexpected"}');
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const at = engineReach({ DOCKER_HOST: `unix://${socketPath}` });

describe('engine(): one Engine API call', () => {
  it('parses the JSON answer and sends filters as JSON, as the engine expects', async () => {
    const list = await engine<Array<{ Id: string }>>(
      '/containers/json',
      { query: { all: true, filters: { label: ['a=b'] }, skipped: undefined } },
      at,
    );
    expect(list).toEqual([{ Id: 'abc' }]);
    const url = new URL(`http://x${seen.at(-1)!.url}`);
    expect(url.searchParams.get('all')).toBe('true');
    expect(JSON.parse(url.searchParams.get('filters')!)).toEqual({ label: ['a=b'] });
    expect(url.searchParams.has('skipped')).toBe(false);
  });

  it('resolves an empty 204 answer to a POST with undefined', async () => {
    await expect(engine('/containers/x/stop', { method: 'POST', query: { t: 10 } }, at)).resolves.toBeUndefined();
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/containers/x/stop?t=10' });
  });

  it('sends a body as JSON (a service spec to update)', async () => {
    const r = await engine<{ got: unknown; type: string }>(
      '/services/s/update',
      { method: 'POST', query: { version: 7 }, body: { Mode: { Replicated: { Replicas: 0 } } } },
      at,
    );
    expect(r).toEqual({ got: { Mode: { Replicated: { Replicas: 0 } } }, type: 'application/json' });
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/services/s/update?version=7' });
  });

  it('rejects a non-2xx answer with its status and the engine’s own message', async () => {
    const err = await engine('/images/none/json', {}, at).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ statusCode: 404, message: '(HTTP 404) No such image: none' });
  });

  it('keeps the status of a non-JSON error answer', async () => {
    await expect(engine('/html-502', {}, at)).rejects.toMatchObject({ statusCode: 502 });
  });

  it('rejects a 2xx answer that is not JSON', async () => {
    await expect(engine('/html', {}, at)).rejects.toThrow('is not JSON');
  });

  it('gives up on an engine that never answers, by its deadline', async () => {
    const t0 = performance.now();
    await expect(engine('/hang', { timeoutMs: 300 }, at)).rejects.toThrow(
      'no answer from the Docker engine within 300 ms',
    );
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('refuses an answer bigger than its limit instead of buffering it', async () => {
    await expect(engine('/huge', { maxBytes: 10_000 }, at)).rejects.toThrow('over 10000 bytes');
  });

  it('rejects when nothing listens on the socket', async () => {
    await expect(
      engine('/containers/json', {}, engineReach({ DOCKER_HOST: `unix://${socketPath}.none` })),
    ).rejects.toThrow(/ENOENT/);
  });
});

describe('a reach that cannot be used', () => {
  it('rejects the call, never throws from engine() itself: callers that chain .catch() still see it', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'ftp://ops@host';
    try {
      const call = engine('/containers/json');
      await expect(call).rejects.toThrow(CouldNotCheck);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
