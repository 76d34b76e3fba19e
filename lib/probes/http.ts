import { subscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { LookupFunction, Socket } from 'node:net';
import { lookup as resolve, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { createSecureContext } from 'node:tls';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Agent, buildConnector, Dispatcher } from 'undici';
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
  /**
   * Called once the request's headers go out, with that moment (`performance.now()`, where `exchangeMs` starts): it
   * has a connection, and any handshake that took is done.
   */
  onSent?: (at: number) => void;
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
  buildConnector: typeof buildConnector;
}
let core: UndiciCore | undefined;
const undici = (): UndiciCore => {
  if (core) return core;
  const load = createRequire(import.meta.url);
  return (core = {
    Agent: load('undici/lib/dispatcher/agent.js') as typeof Agent,
    request: load('undici/lib/api/api-request.js') as UndiciCore['request'],
    buildConnector: load('undici/lib/core/connect.js') as UndiciCore['buildConnector'],
  });
};

type Connector = buildConnector.connector;
type ConnectTo = buildConnector.Options;

/**
 * Undici's own connector, with connections opened ahead (`open`): the pool's next new connection to that origin
 * is one of them, TLS done, instead of one it opens then. One closed, or unused for `keepAliveMs`, is dropped.
 */
function openingAhead(inner: Connector, keepAliveMs: number) {
  // As undici's client asks: the hostname without an IPv6 address's brackets, the port empty when the default.
  const connectTo = (url: URL): ConnectTo => ({
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    host: url.host,
    port: url.port,
  });
  // By origin, each waiting connection with what lets it go: the timer that closes it unused, and its listener.
  const ready = new Map<string, Map<Socket, () => void>>();
  const originOf = (to: ConnectTo) =>
    `${to.protocol}//${to.hostname}:${to.port || (to.protocol === 'https:' ? 443 : 80)}`;
  const connect: Connector = (to, done) => {
    const waiting = ready.get(originOf(to));
    for (const [socket, release] of waiting ?? []) {
      release();
      if (socket.destroyed || socket.readyState !== 'open') continue;
      // Kept unreferenced while it waited: undici references only sockets it has itself left unreferenced.
      socket.ref();
      queueMicrotask(() => done(null, socket));
      return;
    }
    inner(to, done);
  };
  const open = (url: URL) =>
    new Promise<void>((resolve, reject) => {
      const to = connectTo(url);
      inner(to, (err, socket) => {
        if (err || !socket) return reject(err ?? new Error('no connection'));
        const origin = originOf(to);
        const waiting = ready.get(origin) ?? ready.set(origin, new Map()).get(origin)!;
        const expiry = setTimeout(() => socket.destroy(), keepAliveMs).unref();
        const release = () => {
          clearTimeout(expiry);
          socket.off('close', release);
          waiting.delete(socket);
        };
        waiting.set(socket, release);
        socket.unref().once('close', release);
        resolve();
      });
    });
  const waiting = (url: URL) => ready.get(originOf(connectTo(url)))?.size ?? 0;
  return { connect, open, waiting };
}

// When each request's headers went out, from undici's diagnostics channels: a request is created within the
// call that makes it, and its headers go once it has a connection. Subscribed with the first request.
interface Sent {
  headersAt?: number;
  onSent?: (at: number) => void;
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
    slot.onSent?.(slot.headersAt);
  });
}

/**
 * The system resolver, with each answer kept for `ttlMs`: a burst of new connections (smoke 9 opening its pool)
 * asks it once, not once a connection, and a name that moves is followed within that time.
 */
export function cachedLookup(
  ttlMs: number,
  resolver: (
    host: string,
    opts: LookupAllOptions,
    done: (err: Error | null, found: LookupAddress[]) => void,
  ) => void = resolve,
): LookupFunction {
  const answers = new Map<string, { at: number; address: string | LookupAddress[]; family?: number }>();
  return (host, opts, done) => {
    const key = `${host}|${opts.family ?? ''}|${opts.all ? 'all' : ''}|${opts.hints ?? ''}`;
    const hit = answers.get(key);
    if (hit && performance.now() - hit.at < ttlMs) return process.nextTick(() => done(null, hit.address, hit.family));
    resolver(host, { ...opts, all: true }, (err, found) => {
      if (err) return done(err, '');
      const address = opts.all ? found : (found[0]?.address ?? '');
      const family = opts.all ? undefined : found[0]?.family;
      answers.set(key, { at: performance.now(), address, family });
      done(null, address, family);
    });
  };
}
const lookupTtlMs = 1000;

type PoolOptions = Pick<HttpOptions, 'caFile' | 'timeoutMs' | 'pool'>;
const agents = new Map<
  string,
  { agent: Agent; ahead: ReturnType<typeof openingAhead>; connected: Map<string, number> }
>();
const agentKey = (opts: PoolOptions) => `${opts.pool ?? ''}|${opts.caFile ?? ''}|${opts.timeoutMs ?? defaultTimeoutMs}`;
const keepAliveMs = 4000;

function agentFor({ Agent, buildConnector }: UndiciCore, opts: PoolOptions) {
  const key = agentKey(opts);
  const { caFile, timeoutMs = defaultTimeoutMs } = opts;
  let entry = agents.get(key);
  if (!entry) {
    // One TLS context for every connection of the agent: given the CA alone, each connection would build its own
    // and parse the CA again, a millisecond of the client's time per handshake.
    const secureContext = createSecureContext(caFile ? { ca: readFileSync(caFile) } : {});
    const ahead = openingAhead(
      buildConnector({
        timeout: timeoutMs,
        secureContext,
        rejectUnauthorized: true,
        lookup: cachedLookup(lookupTtlMs),
      }),
      keepAliveMs,
    );
    const agent = new Agent({
      connect: ahead.connect,
      keepAliveTimeout: keepAliveMs,
      connections: connectionsPerOrigin,
    });
    // Counted as they open and close: the agent's own stats build a record of every pool on each read, and a
    // sample reads them before every request it sends.
    const connected = new Map<string, number>();
    const count = (origin: unknown, by: number) => {
      const o = origin instanceof URL ? origin.origin : new URL(String(origin)).origin;
      connected.set(o, Math.max(0, (connected.get(o) ?? 0) + by));
    };
    agent.on('connect', (origin) => count(origin, 1)).on('disconnect', (origin) => count(origin, -1));
    agents.set(key, (entry = { agent, ahead, connected }));
  }
  return entry;
}

/**
 * Opens a connection to the URL's origin for get() with these options, TLS included, without a request: the
 * next request that needs a new connection takes it. Resolves once it is open; rejects when it could not be.
 */
export function openAhead(url: string, opts: PoolOptions = {}): Promise<void> {
  return agentFor(undici(), opts).ahead.open(new URL(url));
}

/**
 * Connections open to the URL's origin through the agent get() uses with these options, those opened ahead
 * included; 0 before its first.
 */
export function connectionsOpen(url: string, opts: PoolOptions = {}): number {
  const entry = agents.get(agentKey(opts));
  if (!entry) return 0;
  const origin = new URL(url);
  return (entry.connected.get(origin.origin) ?? 0) + entry.ahead.waiting(origin);
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
      answer = u.request.call(agentFor(u, opts).agent, {
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
