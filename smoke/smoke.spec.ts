// Runbook section 3, reported in its order. Checks 1–8 and 10 run side by side; smoke 9 starts when they have
// ended, so their searches (a cold one takes seconds of the database's CPU) are not in its latency sample, and
// its sample paces itself (smoke/checks.ts) so it never measures its own load.
import { describe, test } from 'vitest';
import * as smoke from './checks';
import { titleOf } from '../runbook/catalogue';

describe.concurrent('3. Smoke test suite', () => {
  test(titleOf('smoke.1'), (ctx) => smoke.health(ctx));
  test(titleOf('smoke.2'), (ctx) => smoke.detailedHealth(ctx));
  test(titleOf('smoke.3'), (ctx) => smoke.products(ctx));
  test(titleOf('smoke.4'), (ctx) => smoke.searchLaptop(ctx));
  test(titleOf('smoke.5'), (ctx) => smoke.searchIphone(ctx));
  test(titleOf('smoke.6'), (ctx) => smoke.affiliateRedirect(ctx));
  test(titleOf('smoke.7'), (ctx) => smoke.mcpHealth(ctx));
  test(titleOf('smoke.8'), (ctx) => smoke.catalogStatus(ctx));
  test(titleOf('smoke.9'), async (ctx) => {
    await smoke.othersEnded(ctx);
    await smoke.searchLatency(ctx);
  });
  test(titleOf('smoke.10'), (ctx) => smoke.tlsCertificate(ctx));
});
