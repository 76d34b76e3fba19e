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
      reject(new CouldNotCheck(`TLS ${host}:${port}: ${err.message}`, { cause: err }));
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
