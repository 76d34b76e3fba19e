import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureCa, issueServerCert } from '../../staging/tls';
import { waitUntil } from '../core/wait';
import { connectionsOpen, get, openAhead } from './http';
import { connectionProblem, peerCertificate } from './tls';

async function serve(opts: Parameters<typeof issueServerCert>[1], handshakeDelayMs = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  await ensureCa(dir);
  await issueServerCert(dir, opts);
  const keys = { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')) };
  const context = createSecureContext(keys);
  const server = createServer(
    {
      ...keys,
      // A handshake that takes its time: the server picks its certificate late.
      SNICallback: (_name, cb) => setTimeout(() => cb(null, context), handshakeDelayMs),
    },
    (req, res) => {
      seen.requests.push((req.socket as Socket & { n?: number }).n!);
      res.end('ok');
    },
  );
  // Each TLS connection the server accepted, numbered, and the connection each request came on.
  const sockets: Socket[] = [];
  const seen = { requests: [] as number[], connections: () => sockets.length };
  server.on('secureConnection', (socket: Socket & { n?: number }) => {
    socket.n = sockets.push(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://${handshakeDelayMs ? 'localhost' : '127.0.0.1'}:${(server.address() as AddressInfo).port}`,
    ca: join(dir, 'ca.crt'),
    seen,
    dropConnections: () => sockets.forEach((c) => c.destroy()),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('get over TLS', () => {
  it("times a new connection's handshake in ms, leaves it out of exchangeMs, and says when the headers went", async () => {
    const s = await serve({ days: 90 }, 300);
    try {
      const started = performance.now();
      const sentAt: number[] = [];
      const first = await get(s.url, {
        caFile: s.ca,
        pool: 'handshake test',
        onSent: (at) => sentAt.push(at),
      });
      const ended = performance.now();
      expect(first.ms).toBeGreaterThanOrEqual(300);
      expect(first.exchangeMs).toBeLessThan(first.ms - 250);
      // Said once, when the handshake was done and the headers went out, which is where exchangeMs starts.
      expect(sentAt).toHaveLength(1);
      expect(sentAt[0]! - started).toBeGreaterThanOrEqual(300);
      expect(first.exchangeMs).toBeLessThanOrEqual(ended - sentAt[0]!);
      const again = await get(s.url, { caFile: s.ca, pool: 'handshake test' });
      expect(again.ms).toBeLessThan(250);
      expect(again.exchangeMs).toBeLessThanOrEqual(again.ms);
    } finally {
      s.close();
    }
  });
});

describe('peerCertificate', () => {
  it.each([
    ['rsa:2048', 'RSA', 2048],
    ['ec:p256', 'EC', 256],
  ] as const)('reports a %s leaf: key type and size, server auth, days left', async (key, type, bits) => {
    const s = await serve({ days: 90, key });
    try {
      const c = await peerCertificate(s.url, { caFile: s.ca });
      expect(c).toMatchObject({ keyType: type, keyBits: bits, serverAuth: true });
      expect(Math.round(c.daysLeft)).toBe(90);
    } finally {
      s.close();
    }
  });

  it('a certificate that does not name the host is CouldNotCheck: verification is never turned off', async () => {
    const s = await serve({ days: 90, hosts: ['other.example'] });
    try {
      await expect(peerCertificate(s.url, { caFile: s.ca })).rejects.toThrow(/^TLS 127\.0\.0\.1:\d+: .*/);
    } finally {
      s.close();
    }
  });

  it('a certificate error is one line with code, subject, names and dates, never the certificate object', async () => {
    const s = await serve({ days: 90, hosts: ['other.example'] });
    try {
      const err = await peerCertificate(s.url, { caFile: s.ca }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      const text = (err as Error).message;
      expect(text.split('\n')).toHaveLength(1);
      expect(text).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID: .*\(certificate CN=.*DNS:other\.example.*valid .* to /);
      expect((err as Error).cause).toBeUndefined();
      expect(JSON.stringify(err).length).toBeLessThan(1000);
    } finally {
      s.close();
    }
  });
});

describe('connectionProblem', () => {
  it('an HTTP GET through an untrusted certificate fails in one line with the code and no certificate dump', async () => {
    const s = await serve({ days: 90 });
    try {
      const err = await get(s.url, { timeoutMs: 3000 }).catch((e: Error) => e);
      const text = (err as Error).message;
      expect(text).toMatch(/^GET https:\/\/127\.0\.0\.1:\d+: [A-Z_]+: .* \(after \d+ ms\)$/);
      expect((err as Error).cause).toBeUndefined();
    } finally {
      s.close();
    }
  });

  it('names the code once, and takes the first line of a message', () => {
    expect(
      connectionProblem(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })),
    ).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(connectionProblem({ cause: { code: 'EPROTO', message: 'wrong version\nstack' } })).toBe(
      'EPROTO: wrong version',
    );
    expect(connectionProblem('plain')).toBe('plain');
  });
});

describe('connections opened ahead (openAhead)', () => {
  it('opens one with its handshake and no request; the next request that needs a connection takes it', async () => {
    const s = await serve({ days: 90 }, 300);
    const pool = { caFile: s.ca, pool: 'ahead: taken' };
    try {
      const started = performance.now();
      await openAhead(s.url, pool);
      expect(performance.now() - started).toBeGreaterThanOrEqual(300);
      expect(connectionsOpen(s.url, pool)).toBe(1);
      expect(s.seen).toMatchObject({ requests: [] });
      const res = await get(s.url, pool);
      // No handshake of its own: the one opened ahead served it.
      expect(res.ms).toBeLessThan(250);
      expect(s.seen.connections()).toBe(1);
      expect(s.seen.requests).toEqual([1]);
      expect(connectionsOpen(s.url, pool)).toBe(1);
    } finally {
      s.close();
    }
  });

  it('one the server closed while it waited is not handed to a request: the request opens its own', async () => {
    const s = await serve({ days: 90 });
    const pool = { caFile: s.ca, pool: 'ahead: closed' };
    try {
      await openAhead(s.url, pool);
      await waitUntil(
        async () => (s.seen.connections() ? { ready: true, value: 0 } : { ready: false, last: 'not yet' }),
        { what: 'the server to see the connection', timeoutMs: 5000, intervalMs: 10 },
      );
      s.dropConnections();
      await waitUntil(
        async () =>
          connectionsOpen(s.url, pool) === 0 ? { ready: true, value: 0 } : { ready: false, last: 'still open' },
        { what: 'the client to see the connection closed', timeoutMs: 5000, intervalMs: 10 },
      );
      const res = await get(s.url, pool);
      expect(res.status).toBe(200);
      expect(s.seen.requests).toEqual([2]);
    } finally {
      s.close();
    }
  });

  it('a certificate the CA did not sign fails the opening, and the request after it fails as it would have', async () => {
    const s = await serve({ days: 90 });
    const other = await serve({ days: 90 });
    const pool = { caFile: other.ca, pool: 'ahead: untrusted' };
    try {
      await expect(openAhead(s.url, pool)).rejects.toThrow();
      expect(connectionsOpen(s.url, pool)).toBe(0);
      await expect(get(s.url, pool)).rejects.toThrow(/^GET https:\/\/127\.0\.0\.1:\d+: [A-Z_]+: /);
      expect(s.seen.requests).toEqual([]);
    } finally {
      s.close();
      other.close();
    }
  });
});
