// Smoke 9 opens as many connections as its pacing can use at the distance it measured to the API: few near it,
// up to the pool far from it. The distance is made with the staging API's response delay.
import { describe, expect, it } from 'vitest';
import { pacingReach } from '../lib/core/stats';
import { connectionsPerOrigin } from '../lib/probes/http';
import { phase, resetFaults, setFaults } from './support/harness';

describe('smoke 9 sizes its connections by the distance to the API', () => {
  const smoke9 = async (responseDelayMs: number) => {
    await setFaults({ responseDelayMs });
    try {
      const r = await phase('smoke');
      const rec = r.evidence.checks.find((c) => c.id === 'smoke.9')!;
      return { r, rec, m: rec.measured as { connections: number; distance_ms: number | null } };
    } finally {
      await resetFaults();
    }
  };

  it('with no delay added: no more connections than pacing uses at the distance it measured on an open connection', async () => {
    // Sizing only, at whatever distance this host gives: the rule holds at every distance, so nothing here depends
    // on how fast the machine is. Whether the sample passes is the thresholds' business (lib/core/stats.test.ts,
    // lib/core/sampler.test.ts), tested against servers that control their timing.
    const { r, m } = await smoke9(0);
    expect(m.distance_ms, r.output.slice(-2000)).not.toBeNull();
    expect(m.connections).toBeGreaterThanOrEqual(1);
    // The sample's connections and the runbook's own, with one to spare for a connection the API closed.
    expect(m.connections).toBeLessThanOrEqual(pacingReach(m.distance_ms!) + 2);
  }, 120_000);

  it('300 ms away: the connections pacing can use there, up to the pool', async () => {
    // Sizing only: whether this sample passes depends on which cache entries expire while it runs (docs/bench.md).
    const { r, m } = await smoke9(300);
    expect(m.connections, r.output.slice(-2000)).toBeGreaterThanOrEqual(40);
    expect(m.connections).toBeLessThanOrEqual(connectionsPerOrigin);
  }, 120_000);
});
