import { describe, expect, it } from 'vitest';
import { tallyLine } from './tally';

describe("npm test's last line", () => {
  it('counts what passed and what failed; skipped and pending count as neither', () => {
    expect(tallyLine(['passed', 'failed', 'passed', 'skipped', 'pending'])).toBe('2 passed, 1 failed');
    expect(tallyLine([])).toBe('0 passed, 0 failed');
  });
});
