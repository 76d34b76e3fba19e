import type { Redis } from 'ioredis';
import { CouldNotCheck } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { execIn, type InContainer, type Reach } from './in-container.js';

/** @default 3000 */
export const REDIS_TIMEOUT_MS = 3000;

/** One client for `fn`, connected with the probe's deadlines and closed after; any failure is CouldNotCheck(what). */
export async function withRedis<T>(url: Secret, what: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  // Loaded on the first command: a phase that asks Redis nothing never pays for the client.
  const { Redis } = await import('ioredis');
  const client = new Redis(url.reveal(), {
    lazyConnect: true,
    connectTimeout: REDIS_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await fn(client);
  } catch (err) {
    throw new CouldNotCheck(`${what}: ${(err as Error).message}`, { cause: err });
  } finally {
    client.disconnect();
  }
}

export const ping = (reach: Reach) =>
  'url' in reach ? withRedis(reach.url, 'Redis PING', (r) => r.ping()) : redisCli(reach, ['ping'], 'Redis PING');

/**
 * redis-cli inside the container, as the runbook's `docker exec … redis-cli ping`. It authenticates with what the
 * container holds (REDISCLI_AUTH), never with a password the operator gives. redis-cli reads no port from its
 * environment, so the container's REDIS_PORT, where it sets one, is passed on.
 */
async function redisCli(reach: InContainer, args: string[], what: string): Promise<string> {
  const container = await reach.container().catch((err: Error) => {
    throw new CouldNotCheck(`${what}: ${err.message}`, { cause: err });
  });
  const port = container.env.get('REDIS_PORT');
  const cmd = ['redis-cli', ...(port ? ['-p', port] : []), ...args];
  const r = await execIn(container, cmd, { timeoutMs: REDIS_TIMEOUT_MS + 2000 }).catch((err: Error) => {
    throw new CouldNotCheck(`${what}: ${err.message}`, { cause: err });
  });
  const out = r.stdout.trim();
  // redis-cli prints an error reply (NOAUTH, LOADING) on stdout and may still exit 0.
  const lines = `${out}\n${r.stderr}`.split('\n').map((l) => l.trim());
  const refusal = lines.find((l) => /^(ERR|NOAUTH|WRONGPASS|LOADING|MASTERDOWN|Could not connect|AUTH failed)/.test(l));
  if (r.exitCode !== 0 || refusal) {
    const why = refusal ?? lines.find(Boolean) ?? 'no message';
    throw new CouldNotCheck(
      `${what}: redis-cli in container ${container.name} ${r.exitCode !== 0 ? `exited ${r.exitCode}` : 'was refused'}: ${why}`,
    );
  }
  return out;
}

export interface RedisMemory {
  usedBytes: number;
  maxBytes: number;
  /** undefined when maxmemory is 0 (unbounded): there is no percentage to compute. */
  usagePct: number | undefined;
}

export function parseMemoryInfo(info: string): RedisMemory {
  const field = (k: string) => {
    const m = new RegExp(`^${k}:(\\d+)`, 'm').exec(info);
    return m ? Number(m[1]) : NaN;
  };
  const usedBytes = field('used_memory');
  const maxBytes = field('maxmemory');
  return { usedBytes, maxBytes, usagePct: maxBytes > 0 ? (usedBytes / maxBytes) * 100 : undefined };
}

export const memory = async (reach: Reach): Promise<RedisMemory> => {
  const info =
    'url' in reach
      ? await withRedis(reach.url, 'Redis INFO memory', (r) => r.info('memory'))
      : await redisCli(reach, ['info', 'memory'], 'Redis INFO memory');
  const m = parseMemoryInfo(info);
  if (Number.isNaN(m.usedBytes) || Number.isNaN(m.maxBytes))
    throw new CouldNotCheck('Redis INFO memory: the answer has no used_memory or maxmemory field');
  return m;
};
