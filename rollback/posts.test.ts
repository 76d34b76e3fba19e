import { describe, expect, it } from 'vitest';
import { rollbackPost } from './posts';

describe("the rollback's #us-launch-ops posts", () => {
  const at = new Date('2026-12-07T13:05:00Z');
  const p = { at, reason: 'smoke 9 p99 over 500 ms', from: 'sha-bad0000', to: 'sha-f000000' };

  it('in the runbook format, the time in EST', () => {
    expect(rollbackPost('initiated', p)).toBe(
      '⚠️ ROLLBACK INITIATED — 08:05 EST\nReason: smoke 9 p99 over 500 ms\nLead: Bolt\nETA: ~5 min (from sha-bad0000 to sha-f000000)\n',
    );
    expect(rollbackPost('complete', p)).toMatch(
      /^✅ ROLLBACK COMPLETE — 08:05 EST\n[\s\S]*Now running: sha-f000000 \(was sha-bad0000\)/,
    );
  });

  it('through a registry, both name the digest every node runs', () => {
    const digest = `127.0.0.1:15000/buywhere-api@sha256:${'d'.repeat(64)}`;
    for (const kind of ['initiated', 'complete'] as const)
      expect(rollbackPost(kind, { ...p, digest }).split('\n')).toContain(`Image: ${digest}`);
    expect(rollbackPost('complete', p)).not.toMatch(/Image:/);
  });
});
