// Runbook section 3. The checks are independent, so they run concurrently; reports keep runbook order.
import { describe, test } from 'vitest';
import * as smoke from './checks';
import { target } from '../lib/config';

const t = target();

describe.concurrent('3. Smoke test suite', () => {
  test('Smoke 1 — /health: HTTP 200, status ok', (ctx) => smoke.health(ctx));
  test('Smoke 2 — /health/detailed: HTTP 200, status healthy, db_response_ms < 500', (ctx) => smoke.detailedHealth(ctx));
  test('Smoke 3 — /v1/products?limit=1: HTTP 200, total > 0, products non-empty', (ctx) => smoke.products(ctx));
  test('Smoke 4 — search "laptop" in USD: HTTP 200, total > 0, a product with currency USD', (ctx) => smoke.searchLaptop(ctx));
  test('Smoke 5 — search "iphone": returns a named product', (ctx) => smoke.searchIphone(ctx));
  test('Smoke 6 — /go/B09G9HDHJT ends on https amazon.com with tag=buywhere-20 (≤ 5 hops)', (ctx) => smoke.affiliateRedirect(ctx));
  test('Smoke 7 — MCP /health: HTTP 200, status ok (non-blocking)', (ctx) => smoke.mcpHealth(ctx));
  test('Smoke 8 — /v1/status with the API key: HTTP 200, total_active_products > 1,000,000', (ctx) => smoke.catalogStatus(ctx));
  test(`Smoke 9 — search latency: 3 requests each < 2 s, and p99 of ${t.p99Samples} < 2 s`, (ctx) => smoke.searchLatency(ctx));
  test('Smoke 10 — TLS certificate notAfter > 30 days from now (advisory)', (ctx) => smoke.tlsCertificate(ctx));
});
