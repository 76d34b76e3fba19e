// Runbook section 3, reported in its order. The checks run side by side, with two orderings that keep the
// harness out of its own measurements: the searches and counts (a cold one takes seconds of the database's CPU)
// start once smoke 2 has measured the database's response time, and so do smoke 9's requests; its sample asks
// queries nobody has answered yet only once every other check has ended, and paces itself (lib/core/sampler.ts)
// so it never measures its own load.
import { describe, test, type TestContext } from 'vitest';
import * as smoke from './checks';
import { titleOf } from '../runbook/catalogue';

const afterDbTimed = (run: (ctx: TestContext) => Promise<void>) => async (ctx: TestContext) => {
  try {
    await smoke.siblingsEnded(ctx, ['smoke.2']);
    await run(ctx);
  } finally {
    smoke.firstAskAnswered(ctx);
  }
};

describe.concurrent('3. Smoke test suite', () => {
  test(titleOf('smoke.1'), (ctx) => smoke.health(ctx));
  test(titleOf('smoke.2'), (ctx) => smoke.detailedHealth(ctx));
  test(titleOf('smoke.3'), afterDbTimed(smoke.products));
  test(titleOf('smoke.4'), afterDbTimed(smoke.searchLaptop));
  test(titleOf('smoke.5'), afterDbTimed(smoke.searchIphone));
  test(titleOf('smoke.6'), (ctx) => smoke.affiliateRedirect(ctx));
  test(titleOf('smoke.7'), (ctx) => smoke.mcpHealth(ctx));
  test(titleOf('smoke.8'), afterDbTimed(smoke.catalogStatus));
  test(titleOf('smoke.9'), (ctx) =>
    smoke.searchLatency(ctx, 'smoke.9', {
      startAfter: () => smoke.siblingsEnded(ctx, ['smoke.2']),
    }),
  );
  test(titleOf('smoke.10'), (ctx) => smoke.tlsCertificate(ctx));
});
