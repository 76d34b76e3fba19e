import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib/core/exec.js';

async function openssl(args: string[], cwd: string) {
  const r = await run(['openssl', ...args] as [string, ...string[]], { cwd, timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed:\n${r.output}`);
}

/** The staging CA, made once per project directory. The harness trusts it; verification stays on. */
export async function ensureCa(tlsDir: string) {
  mkdirSync(tlsDir, { recursive: true, mode: 0o755 });
  if (existsSync(join(tlsDir, 'ca.crt'))) return;
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '3650',
      '-subj',
      '/CN=BuyWhere Staging CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    tlsDir,
  );
}

/**
 * Issues the API's server certificate from the staging CA, valid for `days`, for the given host names, with an
 * RSA 2048-bit key unless another is asked for. Writes server.crt and server.key into `outDir`.
 */
export async function issueServerCert(
  tlsDir: string,
  opts: {
    days: number;
    hosts?: string[];
    outDir?: string;
    key?: 'rsa:2048' | 'rsa:1024' | 'ec:p256';
    /** clientAuth: a client's certificate (an engine's TLS client), issued the same way. */
    usage?: 'serverAuth' | 'clientAuth';
  },
) {
  const hosts = opts.hosts ?? ['localhost', '127.0.0.1', '::1'];
  const out = opts.outDir ?? tlsDir;
  mkdirSync(out, { recursive: true });
  const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  const newkey =
    opts.key === 'ec:p256'
      ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']
      : ['-newkey', opts.key ?? 'rsa:2048'];
  await openssl(
    [
      'req',
      ...newkey,
      '-nodes',
      '-keyout',
      join(out, 'server.key'),
      '-out',
      join(out, 'server.csr'),
      '-subj',
      `/CN=${hosts[0]}`,
    ],
    tlsDir,
  );
  const extFile = join(out, 'server.ext');
  writeFileSync(extFile, `subjectAltName=${san}\nextendedKeyUsage=${opts.usage ?? 'serverAuth'}\n`);
  if (!Number.isInteger(opts.days) || opts.days < 1)
    throw new Error(`certificate lifetime must be a whole number of days >= 1, got ${opts.days}`);
  const start = ['-days', String(opts.days)];
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      join(out, 'server.csr'),
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      join(out, 'server.crt'),
      ...start,
      '-extfile',
      extFile,
    ],
    tlsDir,
  );
  rmSync(join(out, 'server.csr'));
  rmSync(extFile);
}
