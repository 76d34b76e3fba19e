// Reference BuyWhere API for the staging stack: the endpoints the runbook's smoke tests call, over plain HTTP on
// the local port (the edge in front of it terminates TLS, as production's does), backed by the real catalog (through PgBouncer), the replica and Redis. Fault switches let a test or a
// "bad build" make it misbehave on purpose; see staging/README.md.
import { readFileSync, existsSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { Faults, loadFaults, parseFaults } from './faults.js';
import { Metrics } from './metrics.js';

const env = process.env;
const required = (name: string): string => {
  const v = env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

// Replicas of a swarm share the host's network: each takes its own ports from its task slot (TASK_SLOT, set from
// Swarm's {{.Task.Slot}}), so slot 1, and a single container on Compose, keep API_LOCAL_PORT itself.
const slot = Number(env.TASK_SLOT || 1);
if (!Number.isInteger(slot) || slot < 1) throw new Error(`TASK_SLOT is not a slot number: ${env.TASK_SLOT}`);
const port = Number(required('API_LOCAL_PORT')) + slot - 1;
const adminPort = env.API_ADMIN_PORT ? Number(env.API_ADMIN_PORT) + slot - 1 : 0;
const affiliateTag = required('AFFILIATE_TAG');
const apiKey = required('BUYWHERE_API_KEY');

const faults: Faults = loadFaults(env, existsSync('/app/build.env') ? readFileSync('/app/build.env', 'utf8') : '');
const metrics = new Metrics();

// Idle connections stay open (idleTimeoutMillis 0): a health check after a quiet spell must not pay for a new
// SCRAM login, or /health/detailed's db_response_ms measures the login instead of the database.
const primary = new pg.Pool({
  connectionString: required('DATABASE_URL'),
  max: 10,
  connectionTimeoutMillis: 2000,
  idleTimeoutMillis: 0,
});
const replica = new pg.Pool({
  host: '127.0.0.1',
  port: Number(required('DB_REPLICA_PORT')),
  user: 'buywhere',
  password: required('POSTGRES_PASSWORD'),
  database: 'catalog',
  max: 2,
  connectionTimeoutMillis: 2000,
  idleTimeoutMillis: 0,
});
primary.on('error', () => {});
replica.on('error', () => {});
const redis = new Redis(required('REDIS_URL'), {
  lazyConnect: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
  commandTimeout: 1000,
  enableOfflineQueue: false,
});
redis.on('error', () => {});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function cached<T>(key: string, ttlSeconds: number, load: () => Promise<T>): Promise<T> {
  try {
    const hit = await redis.get(key);
    if (hit) return JSON.parse(hit) as T;
  } catch {
    // A cache that is down slows search down; it must not break it.
  }
  const value = await load();
  redis.set(key, JSON.stringify(value), 'EX', ttlSeconds).catch(() => {});
  return value;
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

function send(res: ServerResponse, reply: Reply) {
  const headers: Record<string, string> = { ...reply.headers };
  let payload = '';
  if (reply.body !== undefined) {
    payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json';
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

const searchCountCap = 1_000;
const productColumns = 'name, brand, category, price::float8 AS price, currency, asin';

async function countActive(): Promise<number> {
  return cached('catalog:active-count', 60, async () => {
    const r = await primary.query('SELECT count(*)::int AS n FROM products WHERE active');
    return r.rows[0].n as number;
  });
}

function presentProducts(rows: Array<Record<string, unknown>>) {
  return rows.map((p) => ({
    ...p,
    currency: faults.wrongCurrency ? 'SGD' : p.currency,
    price: faults.usdNoPrice ? null : p.price,
  }));
}

function intParam(url: URL, name: string, fallback: number, max: number): number {
  const n = Number(url.searchParams.get(name) ?? fallback);
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : fallback;
}

async function route(req: IncomingMessage, url: URL): Promise<[string, Reply]> {
  const path = url.pathname;
  if (req.method !== 'GET') return [path, { status: 405, body: { error: 'method not allowed' } }];

  if (path === '/health') {
    if (faults.healthDown) return [path, { status: 503, body: { status: 'down' } }];
    return [path, { status: 200, body: { status: 'ok', build: env.BUILD_SHA ?? 'unknown' } }];
  }

  if (path === '/health/detailed') {
    const t0 = performance.now();
    const [db, rep, cache] = await Promise.allSettled([
      withDeadline(primary.query('SELECT 1'), 2000),
      withDeadline(replica.query('SELECT pg_is_in_recovery() AS r'), 2000),
      withDeadline(redis.ping(), 2000),
    ]);
    const dbMs = Math.round((performance.now() - t0) * 10) / 10;
    const dependencies = {
      db: db.status === 'fulfilled' ? 'healthy' : 'down',
      db_replica: rep.status === 'fulfilled' && rep.value.rows[0]?.r === true ? 'healthy' : 'down',
      redis: cache.status === 'fulfilled' ? 'healthy' : 'down',
    };
    if (faults.lyingHealth) dependencies.db = 'down';
    const healthy =
      faults.lyingHealth || (!faults.degradedHealth && Object.values(dependencies).every((s) => s === 'healthy'));
    return [
      path,
      {
        status: healthy ? 200 : 503,
        body: { status: healthy ? 'healthy' : 'degraded', db_response_ms: dbMs, dependencies },
      },
    ];
  }

  if (path === '/v1/products') {
    const limit = intParam(url, 'limit', 20, 100);
    const [total, rows] = await Promise.all([
      countActive(),
      primary.query(`SELECT ${productColumns} FROM products WHERE active ORDER BY id LIMIT $1`, [limit]),
    ]);
    return [path, { status: 200, body: { total, products: presentProducts(rows.rows) } }];
  }

  if (path === '/v1/search') {
    if (faults.searchDelayMs > 0) await sleep(faults.searchDelayMs);
    if (faults.search5xx) return [path, { status: 503, body: { error: 'search unavailable' } }];
    const q = (url.searchParams.get('q') ?? '').trim().slice(0, 200);
    const limit = intParam(url, 'limit', 10, 100);
    const currency = (url.searchParams.get('currency') ?? 'USD').toUpperCase();
    if (!q) return [path, { status: 400, body: { error: 'q is required' } }];
    const result = await cached(`search:v1:${currency}:${limit}:${q.toLowerCase()}`, 60, async () => {
      const where = "active AND search @@ plainto_tsquery('simple', $1) AND currency = $2";
      // Both queries stop early: an uncached search for a common term must not read every match (62,500 of
      // them for "laptop") to count or sort them. total counts matches up to searchCountCap.
      const [count, rows] = await Promise.all([
        primary.query(
          `SELECT count(*)::int AS n FROM (SELECT 1 FROM products WHERE ${where} LIMIT ${searchCountCap}) matches`,
          [q, currency],
        ),
        primary.query(`SELECT ${productColumns} FROM products WHERE ${where} LIMIT $3`, [q, currency, limit]),
      ]);
      return { total: count.rows[0].n as number, products: rows.rows };
    });
    return [path, { status: 200, body: { total: result.total, products: presentProducts(result.products) } }];
  }

  const go = /^\/go\/([A-Z0-9]{10})$/.exec(path);
  if (go) {
    const asin = go[1]!;
    if (faults.redirectFailures > 0) {
      faults.redirectFailures--;
      return ['/go/:asin', { status: 503, body: { error: 'redirect service unavailable' } }];
    }
    primary.query('INSERT INTO affiliate_clicks (asin) VALUES ($1)', [asin]).catch(() => {});
    const host = faults.lookalikeRedirect ? 'www.amazon.com.evil.example' : 'www.amazon.com';
    const target = new URL(`https://${host}/dp/${asin}`);
    if (!faults.untaggedRedirect) target.searchParams.set('tag', faults.wrongTag ? `${affiliateTag}0` : affiliateTag);
    if (faults.redirectPort) target.port = '8443';
    if (faults.redirectUserinfo) [target.username, target.password] = ['user', 'pw'];
    return ['/go/:asin', { status: faults.redirectStatus || 302, headers: { location: target.toString() } }];
  }

  if (path === '/v1/status') {
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (faults.echoKey) return [path, { status: 403, body: { error: `key ${given} is not allowed here` } }];
    const a = Buffer.from(given);
    const b = Buffer.from(apiKey);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      return [path, { status: 401, body: { error: 'unauthorized' } }];
    }
    return [path, { status: 200, body: { total_active_products: await countActive(), region: env.US_REGION ?? null } }];
  }

  if (path === '/metrics') {
    return [path, { status: 200, body: metrics.render(), headers: { 'content-type': 'text/plain; version=0.0.4' } }];
  }

  return ['unmatched', { status: 404, body: { error: 'not found' } }];
}

const server = createHttpServer(async (req, res) => {
  const started = performance.now();
  const url = new URL(req.url ?? '/', 'http://localhost');
  let routeName = 'unmatched';
  let reply: Reply;
  try {
    [routeName, reply] = await route(req, url);
  } catch (err) {
    reply = { status: 500, body: { error: 'internal error', detail: (err as Error).message } };
  }
  if (faults.responseDelayMs > 0) await sleep(faults.responseDelayMs);
  send(res, reply);
  if (routeName !== '/metrics') metrics.observe(routeName, reply.status, (performance.now() - started) / 1000);
});
server.keepAliveTimeout = 5000;
// Open the pools before answering /health, so the first requests after a (re)start do not pay for
// connection set-up through PgBouncer; a dependency that is down only delays start-up by the deadline.
void Promise.allSettled([
  ...Array.from({ length: 4 }, () => withDeadline(primary.query('SELECT 1'), 5000)),
  withDeadline(replica.query('SELECT 1'), 5000),
  withDeadline(redis.ping(), 5000),
]).then(() =>
  faults.neverListens
    ? console.log('api never listens (FAULT_NEVER_LISTENS)')
    : server.listen(port, '127.0.0.1', () => console.log(`api listening on http://127.0.0.1:${port}`)),
);

if (env.ADMIN_ENABLED === '1' && adminPort > 0) {
  const admin = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        if (req.url === '/admin/faults' && req.method === 'GET') return send(res, { status: 200, body: faults });
        if (req.url === '/admin/faults' && req.method === 'PUT') {
          Object.assign(faults, parseFaults(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')));
          return send(res, { status: 200, body: faults });
        }
        send(res, { status: 404, body: { error: 'not found' } });
      } catch (err) {
        send(res, { status: 400, body: { error: (err as Error).message } });
      }
    });
  });
  admin.listen(adminPort, '127.0.0.1', () => console.log(`admin listening on http://127.0.0.1:${adminPort}`));
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close();
    void Promise.allSettled([primary.end(), replica.end(), redis.quit()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  });
}
