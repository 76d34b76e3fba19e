// Runbook section 3, reported in its order. The checks run side by side, with two orderings that keep the
// harness out of its own measurements: the searches and counts (a cold one takes the database's time) start once
// smoke 2 has its answer, so they are not in the database's response time it reports, and so do smoke 9's
// sample searches. Those the sample asks first (nobody has answered them yet) share their places with smoke 3, 4,
// 5 and 8 until these have answered, and the sample paces itself (lib/core/sampler.ts) so it never measures its
// own load.
import { describe, test, type TestContext } from 'vitest';
import * as smoke from './checks';
import { titleOf, type CheckId } from '../runbook/catalogue';

/** Every check says when it has its answer, or ended without one: the checks that wait for it never wait longer. */
const smokeCheck = (id: CheckId, run: (ctx: TestContext) => Promise<void>, after?: readonly CheckId[]) =>
  test(titleOf(id), async (ctx) => {
    try {
      if (after) await smoke.answersOf(ctx, after);
      await run(ctx);
    } finally {
      smoke.answeredFor(ctx);
    }
  });
const afterDbTimed = ['smoke.2'] as const;

describe.concurrent('3. Smoke test suite', () => {
  smokeCheck('smoke.1', (ctx) => smoke.health(ctx));
  smokeCheck('smoke.replicas', (ctx) => smoke.replicaHealth(ctx));
  smokeCheck('smoke.2', (ctx) => smoke.detailedHealth(ctx));
  smokeCheck('smoke.3', (ctx) => smoke.products(ctx), afterDbTimed);
  smokeCheck('smoke.4', (ctx) => smoke.searchLaptop(ctx), afterDbTimed);
  smokeCheck('smoke.5', (ctx) => smoke.searchIphone(ctx), afterDbTimed);
  smokeCheck('smoke.6', (ctx) => smoke.affiliateRedirect(ctx));
  smokeCheck('smoke.7', (ctx) => smoke.mcpHealth(ctx));
  smokeCheck('smoke.8', (ctx) => smoke.catalogStatus(ctx), afterDbTimed);
  smokeCheck('smoke.9', (ctx) =>
    smoke.searchLatency(ctx, 'smoke.9', { startAfter: () => smoke.answersOf(ctx, afterDbTimed) }),
  );
  smokeCheck('smoke.10', (ctx) => smoke.tlsCertificate(ctx));
});
