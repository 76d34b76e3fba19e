import { subscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Agent, Dispatcher } from 'undici';
import { CouldNotCheck } from '../core/errors.js';
import { redirectStatuses } from '../../runbook/catalogue.js';
import { connectionProblem } from './tls.js';

export interface HttpOptions {
  /** PEM file of the CA to trust in addition to none: when set, only this CA is trusted. */
  caFile?: string;
  /** Deadline for the whole exchange, connect to last byte, in ms. @default 5000 */
  timeoutMs?: number;
  /** Bodies larger than this fail the check rather than fill memory. @default 1048576 */
  maxBodyBytes?: number;
  headers?: Record<string, string>;
  /**
   * Requests that name a pool have connections of their own: they never wait for one that requests outside it
   * hold, nor open one those requests then use. @default the pool of every request with the same CA and deadline
   */
  pool?: string;
  /** Called once the request's headers go out: it has a connection, and any handshake that took is done. */
  onSent?: () => void;
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** From the call to the last byte: the connection's setup (a TLS handshake) included when it made one. */
  ms: number;
  /**
   * From the request's headers going out to the last byte: the round trip and the server's time, whatever the
   * connection cost to set up. `ms` when the client did not say when the headers went.
   */
  exchangeMs: number;
}

const decoders: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** Connections kept per origin: a request beyond them waits for one, and that wait would be timed as latency. */
export const connectionsPerOrigin = 64;
const defaultTimeoutMs = 5000;

// Only the two parts of undici a GET needs. Its index loads every dispatcher, fetch, the mocks, caches and
// interceptors besides: three times as long, at the start of every phase that makes a request.
interface UndiciCore {
  Agent: typeof Agent;
  request: (this: Dispatcher, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
}
let core: UndiciCore | undefined;
const undici = (): UndiciCore => {
  if (core) return core;
  const load = createRequire(import.meta.url);
  return (core = {
    Agent: load('undici/lib/dispatcher/agent.js') as typeof Agent,
    request: load('undici/lib/api/api-request.js') as UndiciCore['request'],
  });
};

// When each request's headers went out, from undici's diagnostics channels: a request is created within the
// call that makes it, and its headers go once it has a connection. Subscribed with the first request.
interface Sent {
  headersAt?: number;
  onSent?: () => void;
}
let sending: Sent | undefined;
const headersSent = new WeakMap<object, Sent>();
let watchingHeaders = false;
function watchHeaders() {
  if (watchingHeaders) return;
  watchingHeaders = true;
  subscribe('undici:request:create', (m) => {
    if (sending) headersSent.set((m as { request: object }).request, sending);
  });
  subscribe('undici:client:sendHeaders', (m) => {
    const slot = headersSent.get((m as { request: object }).request);
    if (!slot) return;
    slot.headersAt = performance.now();
    slot.onSent?.();
  });
}

const agents = new Map<string, Agent>();
const agentKey = (opts: Pick<HttpOptions, 'caFile' | 'timeoutMs' | 'pool'>) =>
  `${opts.pool ?? ''}|${opts.caFile ?? ''}|${opts.timeoutMs ?? defaultTimeoutMs}`;

function agentFor({ Agent }: UndiciCore, opts: HttpOptions): Dispatcher {
  const key = agentKey(opts);
  const { caFile, timeoutMs = defaultTimeoutMs } = opts;
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({
      connect: { timeout: timeoutMs, ...(caFile ? { ca: readFileSync(caFile) } : {}), rejectUnauthorized: true },
      keepAliveTimeout: 4000,
      connections: connectionsPerOrigin,
    });
    agents.set(key, agent);
  }
  return agent;
}

/** Connections open to the URL's origin through the agent get() uses with these options; 0 before its first. */
export function connectionsOpen(url: string, opts: Pick<HttpOptions, 'caFile' | 'timeoutMs' | 'pool'> = {}): number {
  const agent = agents.get(agentKey(opts));
  const stats = agent?.stats as Record<string, { connected?: number }> | undefined;
  return stats?.[new URL(url).origin]?.connected ?? 0;
}

/** One GET, no redirects followed, with a hard deadline and a body size cap. Transport trouble is CouldNotCheck. */
export async function get(url: string, opts: HttpOptions = {}): Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;
  const maxBodyBytes = opts.maxBodyBytes ?? 1024 * 1024;
  // Loaded on the first request, before its clock starts: a phase that makes none (the gate) never pays for it.
  const u = undici();
  watchHeaders();
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  const slot: Sent = { onSent: opts.onSent };
  try {
    const target = new URL(url);
    sending = slot;
    let answer;
    try {
      answer = u.request.call(agentFor(u, opts), {
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: 'GET',
        headers: opts.headers,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal,
      });
    } finally {
      sending = undefined;
    }
    const res = await answer;
    const chunks: Buffer[] = [];
    let size = 0;
    // The cap counts decompressed bytes, chunk by chunk: a small gzip that inflates to gigabytes stops at the cap.
    const encoding = String(res.headers['content-encoding'] ?? 'identity')
      .toLowerCase()
      .trim();
    const decoder = decoders[encoding];
    if (!decoder && encoding !== 'identity') {
      res.body.destroy();
      throw new CouldNotCheck(`GET ${url}: unsupported content-encoding ${JSON.stringify(encoding)}`);
    }
    const body = decoder ? res.body.pipe(decoder()) : res.body;
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > maxBodyBytes) {
        res.body.destroy();
        body.destroy();
        throw new CouldNotCheck(
          `GET ${url}: body larger than ${maxBodyBytes} bytes${decoder ? ` once decompressed (${encoding})` : ''}; stopped reading`,
        );
      }
      chunks.push(chunk as Buffer);
    }
    const end = performance.now();
    return {
      url,
      status: res.statusCode,
      headers: res.headers,
      text: Buffer.concat(chunks).toString('utf8'),
      ms: end - started,
      exchangeMs: end - (slot.headersAt ?? started),
    };
  } catch (err) {
    if (err instanceof CouldNotCheck) throw err;
    const elapsed = Math.round(performance.now() - started);
    const reason = signal.aborted ? `no complete answer within ${timeoutMs} ms` : connectionProblem(err);
    // No cause: a TLS error's cause carries the whole certificate into every report and log.
    throw new CouldNotCheck(`GET ${url}: ${reason} (after ${elapsed} ms)`);
  }
}

/** Parses a JSON body. A body that is not JSON is an answer, and a wrong one: the caller fails the check. */
export function json(res: HttpResponse): { ok: true; value: Record<string, unknown> } | { ok: false; problem: string } {
  try {
    const value = JSON.parse(res.text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      return { ok: false, problem: `JSON that is not an object: ${res.text.slice(0, 80)}` };
    return { ok: true, value: value as Record<string, unknown> };
  } catch {
    return {
      ok: false,
      problem: `a body that is not JSON (${res.text.length} bytes, starting ${JSON.stringify(res.text.slice(0, 40))})`,
    };
  }
}

export interface RedirectChain {
  hops: Array<{ url: string; status: number }>;
  /** Where the chain ends: the first URL outside the allowed hosts (never requested) or the last answer. */
  finalUrl: string;
  problem?: string;
}

/**
 * Walks a redirect chain hop by hop. Only URLs on `allowedOrigins` are requested; the first hop that leaves
 * them is the chain's end and is inspected, not fetched. A loop or more than `maxHops` is a problem.
 */
export async function walkRedirects(
  start: string,
  opts: HttpOptions & { allowedOrigins: string[]; maxHops?: number },
): Promise<RedirectChain> {
  const maxHops = opts.maxHops ?? 5;
  const hops: RedirectChain['hops'] = [];
  const seen = new Set<string>();
  let current = start;
  for (;;) {
    if (seen.has(current)) return { hops, finalUrl: current, problem: `redirect loop back to ${current}` };
    seen.add(current);
    const res = await get(current, opts);
    hops.push({ url: current, status: res.status });
    // As a browser: only these statuses are redirects; a Location on any other answer is not followed.
    if (!redirectStatuses.includes(res.status)) return { hops, finalUrl: current };
    const location = res.headers.location;
    if (typeof location !== 'string' || !location)
      return { hops, finalUrl: current, problem: `HTTP ${res.status} without a Location header` };
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      return { hops, finalUrl: current, problem: `unparseable Location ${JSON.stringify(location.slice(0, 100))}` };
    }
    if (!opts.allowedOrigins.includes(next.origin)) return { hops, finalUrl: next.toString() };
    if (hops.length >= maxHops) return { hops, finalUrl: next.toString(), problem: `more than ${maxHops} redirects` };
    current = next.toString();
  }
}
