import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureCa, issueServerCert } from '../../staging/tls';
import { peerCertificate } from './tls';

async function serve(opts: Parameters<typeof issueServerCert>[1]) {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  await ensureCa(dir);
  await issueServerCert(dir, opts);
  const server = createServer(
    { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')) },
    (_, res) => res.end('ok'),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ca: join(dir, 'ca.crt'),
    close: () => server.close(),
  };
}

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
});
