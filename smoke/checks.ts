// The smoke checks of runbook section 3, shared by `npm run smoke` and rollback verification (step 6).
import type { TestContext } from 'vitest';
import { expect } from 'vitest';
import { check } from '../lib/check';
import { target } from '../lib/config';
import { affiliateTags, get, isAmazonUrl, json, walkRedirects } from '../lib/http';
import { percentile, pool } from '../lib/stats';
import { peerCertificate } from '../lib/tls';

const t = target();
const api = (path: string) => `${t.apiUrl}${path}`;
const http = { caFile: t.caFile };

/** One GET whose answer must be a JSON object. `seen` summarises the answer for failure messages. */
async function getJson(c: ReturnType<typeof check>, path: string, headers?: Record<string, string>) {
  const res = await c.probe(() => get(api(path), { ...http, headers }));
  const body = json(res);
  const seen = `HTTP ${res.status}, body ${body.ok ? JSON.stringify(body.value).slice(0, 160) : body.problem}`;
  return { res, body: body.ok ? body.value : undefined, problem: body.ok ? undefined : body.problem, seen };
}

/** The HTTP status must be 200 and the body a JSON object; the message shows what came back instead. */
function expectJson200(c: ReturnType<typeof check>, a: Awaited<ReturnType<typeof getJson>>, path: string): Record<string, unknown> {
  expect(a.res.status, c.says(`HTTP status of ${path} (${a.seen})`)).toBe(200);
  expect(a.problem, c.says(`body of ${path}`)).toBeUndefined();
  return a.body!;
}

const searchUsd = (q: string, limit: number) => `/v1/search?q=${encodeURIComponent(q)}&limit=${limit}&currency=USD`;

export async function health(ctx: TestContext, id = 'smoke.1') {
  const c = check(ctx, { id, threshold: 'HTTP 200, status: ok', action: 'HOLD — page Bolt' });
  const a = await getJson(c, '/health');
  c.measured({ http: a.res.status, status: a.body?.status ?? a.problem });
  const body = expectJson200(c, a, '/health');
  expect(body.status, c.says('"status" in the body')).toBe('ok');
}

export async function detailedHealth(ctx: TestContext, id = 'smoke.2') {
  const c = check(ctx, { id, threshold: 'HTTP 200, healthy, db_response_ms < 500', unit: 'ms', action: 'HOLD — page Bolt' });
  const a = await getJson(c, '/health/detailed');
  c.measured({ http: a.res.status, status: a.body?.status ?? a.problem, db_response_ms: a.body?.db_response_ms ?? null, dependencies: a.body?.dependencies ?? null });
  const body = expectJson200(c, a, '/health/detailed');
  expect(body.status, c.says(`"status" in the body (dependencies: ${JSON.stringify(body.dependencies)})`)).toBe('healthy');
  expect(typeof body.db_response_ms, c.says('db_response_ms present as a number')).toBe('number');
  expect(body.db_response_ms as number, c.says('db_response_ms')).toBeLessThan(500);
}

export async function products(ctx: TestContext, id = 'smoke.3') {
  const c = check(ctx, { id, threshold: 'HTTP 200, total > 0, products non-empty', action: 'HOLD — page Bolt' });
  const a = await getJson(c, '/v1/products?limit=1');
  c.measured({ http: a.res.status, total: a.body?.total ?? a.problem });
  const body = expectJson200(c, a, '/v1/products?limit=1');
  expect(typeof body.total, c.says('"total" is a number')).toBe('number');
  expect(body.total as number, c.says('"total"')).toBeGreaterThan(0);
  expect(Array.isArray(body.products) ? body.products.length : 'no products array', c.says('products array length')).toBeGreaterThan(0);
}

export async function searchLaptop(ctx: TestContext, id = 'smoke.4') {
  const c = check(ctx, { id, threshold: 'HTTP 200, total > 0, ≥ 1 product in USD', action: 'HOLD — page Bolt' });
  const a = await getJson(c, searchUsd('laptop', 3));
  const products = Array.isArray(a.body?.products) ? (a.body.products as Array<Record<string, unknown>>) : [];
  const usd = products.filter((p) => p.currency === 'USD').length;
  const currencies = [...new Set(products.map((p) => p.currency))];
  c.measured({ http: a.res.status, total: a.body?.total ?? a.problem, usd_products: usd, currencies });
  const body = expectJson200(c, a, '/v1/search?q=laptop');
  expect(typeof body.total, c.says('"total" is a number')).toBe('number');
  expect(body.total as number, c.says('"total"')).toBeGreaterThan(0);
  expect(usd, c.says(`products with currency "USD" (currencies seen: ${currencies.join(', ') || 'none'})`)).toBeGreaterThanOrEqual(1);
}

export async function searchIphone(ctx: TestContext, id = 'smoke.5') {
  const c = check(ctx, { id, threshold: 'products[0].name non-empty', action: 'HOLD — page Bolt' });
  const a = await getJson(c, searchUsd('iphone', 1));
  const first = Array.isArray(a.body?.products) ? (a.body.products as Array<Record<string, unknown>>)[0] : undefined;
  c.measured({ http: a.res.status, total: a.body?.total ?? a.problem, first_product: first?.name ?? null });
  expectJson200(c, a, '/v1/search?q=iphone');
  expect(typeof first?.name === 'string' && first.name.trim().length > 0, c.says(`products[0].name is a non-empty string (got ${JSON.stringify(first?.name ?? null)})`)).toBe(true);
}

export async function affiliateRedirect(ctx: TestContext, id = 'smoke.6') {
  const c = check(ctx, { id, threshold: 'https://*.amazon.com, tag=buywhere-20 exactly', action: 'HOLD — page Sol/Link' });
  const chain = await c.probe(() => walkRedirects(api('/go/B09G9HDHJT'), { ...http, allowedOrigins: [new URL(t.apiUrl).origin], maxHops: 5 }));
  c.measured({ final: chain.finalUrl, hops: chain.hops.length });
  expect(chain.problem, c.says('redirect chain')).toBeUndefined();
  expect(chain.hops[0]?.status, c.says('first hop is a redirect')).toBeGreaterThanOrEqual(300);
  expect(isAmazonUrl(chain.finalUrl), c.says(`final URL ${chain.finalUrl} is https on amazon.com or a subdomain`)).toBe(true);
  expect(affiliateTags(chain.finalUrl), c.says(`tag in ${chain.finalUrl}`)).toEqual(['buywhere-20']);
}

export async function mcpHealth(ctx: TestContext, id = 'smoke.7') {
  const c = check(ctx, { id, threshold: 'HTTP 200, status: ok', action: 'Non-blocking for launch: log it and tell Bolt', advisory: true });
  const res = await c.probe(() => get(`${t.mcpUrl}/health`, http));
  const body = json(res);
  c.measured({ http: res.status, status: body.ok ? body.value.status : body.problem });
  expect(res.status, c.says('HTTP status of MCP /health')).toBe(200);
  expect(body.ok ? body.value.status : body.problem, c.says('"status" in the MCP body')).toBe('ok');
}

export async function catalogStatus(ctx: TestContext, id = 'smoke.8') {
  const c = check(ctx, { id, threshold: '> 1000000', action: 'HOLD — page Bolt: the catalog is incomplete' });
  expect(t.apiKey.isEmpty, c.says('BUYWHERE_API_KEY is set')).toBe(false);
  const a = await getJson(c, '/v1/status', { authorization: `Bearer ${t.apiKey.reveal()}` });
  c.measured(a.body?.total_active_products ?? a.seen);
  const body = expectJson200(c, a, '/v1/status');
  expect(typeof body.total_active_products, c.says('total_active_products is a number')).toBe('number');
  expect(body.total_active_products as number, c.says('total_active_products')).toBeGreaterThan(1_000_000);
}

export async function searchLatency(ctx: TestContext, id = 'smoke.9') {
  const c = check(ctx, { id, threshold: '< 2 s each; p99 < 2 s', unit: 'ms', action: 'HOLD — investigate warm-up; flag to Rex before Go' });
  const timed = async () => {
    const started = performance.now();
    const res = await get(api(searchUsd('phone', 5)), { ...http, timeoutMs: 4000 }).catch((e: Error) => e);
    const ms = performance.now() - started;
    return { ms, ok: !(res instanceof Error) && res.status === 200, why: res instanceof Error ? res.message : `HTTP ${res.status}` };
  };
  const runbookThree: Awaited<ReturnType<typeof timed>>[] = [];
  for (let i = 0; i < 3; i++) runbookThree.push(await timed());
  const sample = await pool(t.p99Samples, 8, timed);
  const all = [...runbookThree, ...sample];
  const p99 = percentile(sample.map((s) => (s.ok ? s.ms : Infinity)), 99);
  c.measured(Number.isFinite(p99) ? Math.round(p99) : 'no complete sample', 'ms');
  ctx.task.meta.check!.measured = { p99_ms: Math.round(p99), runbook_three_ms: runbookThree.map((r) => Math.round(r.ms)), samples: sample.length };
  const failed = all.filter((s) => !s.ok);
  expect(failed.map((f) => f.why), c.says('failed search requests')).toEqual([]);
  for (const [i, r] of runbookThree.entries()) expect(r.ms, c.says(`runbook request ${i + 1} latency ms`)).toBeLessThan(2000);
  expect(p99, c.says(`p99 of ${t.p99Samples} searches, ms`)).toBeLessThan(2000);
}

export async function tlsCertificate(ctx: TestContext, id = 'smoke.10') {
  const c = check(ctx, { id, threshold: '> 30 days', unit: 'days', action: 'Renew the certificate before it gets close to expiry', advisory: true });
  const cert = await c.probe(() => peerCertificate(t.apiUrl, { caFile: t.caFile }));
  c.measured(Math.floor(cert.daysLeft), 'days');
  expect(cert.daysLeft, c.says(`days until notAfter ${cert.notAfter.toISOString()}`)).toBeGreaterThan(30);
}
