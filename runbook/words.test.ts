import { describe, expect, it } from 'vitest';
import { catalogue } from './catalogue';
import { measuredInWords, numberInWords } from './words';
import { summary } from '../lib/harness/reporter';

describe('measured values in words', () => {
  it('rounds for display only, and says so', () => {
    expect(numberInWords(24.8)).toBe('24.8');
    expect(numberInWords(24.83456)).toBe('≈ 24.83');
    expect(numberInWords(1_000_501)).toBe('1,000,501');
    expect(numberInWords(364.2571)).toBe('≈ 364.3');
  });

  it('every example in the catalogue reads without JSON', () => {
    for (const e of catalogue) expect(measuredInWords(e.id, e.example), e.id).not.toMatch(/[{}"]/);
  });

  it('a record the catalogue has no sentence for is named field by field; nothing is "nothing measured"', () => {
    expect(measuredInWords('smoke.3', { http: 200, total: 1_000_001, products: 1 })).toBe(
      'http 200; total 1,000,001; products 1',
    );
    expect(measuredInWords('smoke.10', { days_left: 'x' })).toMatch(/^days left x/);
    expect(measuredInWords('smoke.1', undefined)).toBe('nothing measured');
  });

  it("a phase's console lines give each check's record in words", () => {
    const text = summary({
      phase: 'smoke',
      target: 'staging',
      deploySha: 'abc1234',
      startedAt: '',
      finishedAt: '',
      checks: [
        {
          id: 'smoke.10',
          title: 'Smoke 10 — TLS',
          status: 'pass',
          measured: { days_left: 364.25, not_after: 'then', key_type: 'RSA', key_bits: 2048, server_auth: true },
        },
      ],
    } as unknown as Parameters<typeof summary>[0]);
    expect(text).toMatch(/PASS +Smoke 10 — TLS {2}measured: ≈ 364.3 days left \(until then\); RSA key of 2048 bits/);
    expect(text).not.toMatch(/\{/);
  });
});
