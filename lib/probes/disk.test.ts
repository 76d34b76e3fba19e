import { describe, expect, it } from 'vitest';
import { diskUsage, usageFromStatfs } from './disk';
import { CouldNotCheck } from '../core/errors';

describe('disk usage', () => {
  it('matches df: used / (used + available)', () => {
    const d = usageFromStatfs('/', { bsize: 4096, blocks: 1000, bfree: 200, bavail: 150 });
    expect(d.usedPct).toBeCloseTo((800 / 950) * 100);
  });
  it('a path that does not exist could not be checked', async () => {
    await expect(diskUsage('/nonexistent/path')).rejects.toBeInstanceOf(CouldNotCheck);
  });
});
