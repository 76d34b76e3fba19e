import type { Redis } from 'ioredis';
import { CouldNotCheck } from '../core/errors.js';
import type { Secret } from '../core/secret.js';

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

export const ping = (url: Secret) => withRedis(url, 'Redis PING', (r) => r.ping());

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

export const memory = (url: Secret) =>
  withRedis(url, 'Redis INFO memory', async (r) => parseMemoryInfo(await r.info('memory')));
