// The Docker Engine API's plain JSON calls (list, inspect, tag, stop), made with node:http through the one reach
// (engine-reach.ts) that dockerode uses too. dockerode loads its gRPC and SSH clients whenever it is imported,
// a tenth of a second or more of a phase's start on a busy host, for calls that are one request each; it stays
// for streams (events, logs, stats, exec) and builds.
import { request, type IncomingMessage } from 'node:http';
import { defaultReach, type EngineReach } from './engine-reach.js';

/** An answer of the engine other than 2xx: its status and the engine's own message. */
export class EngineError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export interface EngineCall {
  method?: 'GET' | 'POST' | 'DELETE';
  /** Query parameters; objects (filters) are sent as JSON, as the engine expects. */
  query?: Record<string, string | number | boolean | object | undefined>;
  timeoutMs?: number;
  /** A bigger answer is refused, never buffered without end. */
  maxBytes?: number;
  /** Sent as JSON (a service spec to update). */
  body?: unknown;
}

const defaults = { timeoutMs: 15_000, maxBytes: 32 * 1024 * 1024 };

function queryString(query: EngineCall['query'] = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    q.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * One call to the engine: resolves with the parsed JSON body (undefined for an empty one), rejects with an
 * EngineError for a non-2xx status, and with an Error for no answer within the deadline or a body that is too
 * big or not JSON.
 */
export function engine<T>(path: string, call: EngineCall = {}, reach?: EngineReach): Promise<T> {
  const { timeoutMs, maxBytes } = { ...defaults, ...call };
  const method = call.method ?? 'GET';
  // An executor that throws rejects: an endpoint that cannot be used fails the call, never its caller's stack.
  const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body));
  return new Promise<T>((resolve, reject) => {
    const { agent } = reach ?? defaultReach();
    const req = request({
      agent,
      // Only the Host header: the agent decides where the connection goes.
      host: 'docker',
      method,
      path: `${path}${queryString(call.query)}`,
      headers: {
        accept: 'application/json',
        ...(payload ? { 'content-type': 'application/json' } : {}),
        ...(method === 'POST' ? { 'content-length': payload?.length ?? 0 } : {}),
      },
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer from the Docker engine within ${timeoutMs} ms (${method} ${path})`)),
      timeoutMs,
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) req.destroy(new Error(`the Docker engine's answer to ${path} is over ${maxBytes} bytes`));
        else chunks.push(c);
      });
      res.on('error', (err) => req.destroy(err));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        let body: unknown;
        try {
          body = text.trim() ? JSON.parse(text) : undefined;
        } catch {
          if (status < 300) return reject(new Error(`the Docker engine's answer to ${path} is not JSON`));
        }
        if (status >= 300) {
          const msg = (body as { message?: string } | undefined)?.message ?? text.trim().slice(0, 200);
          return reject(new EngineError(status, `(HTTP ${status}) ${msg || res.statusMessage}`));
        }
        resolve(body as T);
      });
    });
    req.end(payload);
  });
}
