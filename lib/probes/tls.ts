import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { CouldNotCheck } from '../core/errors.js';

export interface CertInfo {
  subject: string;
  issuer: string;
  notAfter: Date;
  daysLeft: number;
  /** "RSA" or "EC", and the key size in bits (the curve's size for EC). */
  keyType: string;
  keyBits: number;
  /** The leaf may serve TLS: its extended key usage names serverAuth, or it has no such extension. */
  serverAuth: boolean;
}

const serverAuthOid = '1.3.6.1.5.5.7.3.1';

interface NodeErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  cert?: { subject?: { CN?: unknown }; subjectaltname?: unknown; valid_from?: unknown; valid_to?: unknown };
}

/**
 * One line for a connection, TLS or HTTP transport error: its code, its first line, and for a certificate
 * error the certificate's subject, names and dates. Never the certificate object itself (about 49 KB of
 * modulus and fingerprints that Node attaches to the error).
 */
export function connectionProblem(err: unknown): string {
  const outer = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as NodeErrorLike;
  const inner = (typeof outer.cause === 'object' && outer.cause !== null ? outer.cause : outer) as NodeErrorLike;
  const code = inner.code ?? outer.code;
  const message = String(inner.message ?? outer.message ?? 'unknown error').split('\n')[0]!;
  const cert = inner.cert ?? outer.cert;
  const shown = cert
    ? ` (certificate CN=${String(cert.subject?.CN ?? '?')}, ${String(cert.subjectaltname ?? 'no SAN')}, valid ${String(cert.valid_from)} to ${String(cert.valid_to)})`
    : '';
  return `${typeof code === 'string' && !message.includes(code) ? `${code}: ` : ''}${message}${shown}`;
}

/**
 * Reads the certificate a TLS server presents. Verification stays on: a certificate that does not chain to
 * the trusted CA or does not name the host is CouldNotCheck, with the TLS error.
 */
export function peerCertificate(
  url: string,
  opts: { caFile?: string; timeoutMs?: number; now?: Date } = {},
): Promise<CertInfo> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 443);
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
      ca: opts.caFile ? readFileSync(opts.caFile) : undefined,
      rejectUnauthorized: true,
      timeout: timeoutMs,
    });
    const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    function fail(err: Error) {
      clearTimeout(timer);
      socket.destroy();
      // No cause: it would carry the whole certificate into every report and log.
      reject(new CouldNotCheck(`TLS ${host}:${port}: ${connectionProblem(err)}`));
    }
    socket.once('error', fail);
    socket.once('timeout', () => fail(new Error(`no TLS handshake within ${timeoutMs} ms`)));
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      socket.end();
      const notAfter = new Date(cert.valid_to);
      const now = opts.now ?? new Date();
      const eku = (cert as { ext_key_usage?: string[] }).ext_key_usage;
      const ec = (cert as { asn1Curve?: string; nistCurve?: string }).asn1Curve;
      resolve({
        subject: String(cert.subject?.CN ?? ''),
        issuer: String(cert.issuer?.CN ?? ''),
        notAfter,
        daysLeft: (notAfter.getTime() - now.getTime()) / 86_400_000,
        keyType: ec ? 'EC' : cert.modulus ? 'RSA' : 'unknown',
        keyBits: Number(cert.bits ?? 0),
        serverAuth: !eku || eku.includes(serverAuthOid),
      });
    });
  });
}
