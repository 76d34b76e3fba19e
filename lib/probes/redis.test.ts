import { describe, expect, it } from 'vitest';
import { parseMemoryInfo } from './redis';

describe('Redis INFO memory', () => {
  it('computes usage against maxmemory', () => {
    expect(parseMemoryInfo('# Memory\r\nused_memory:50\r\nmaxmemory:200\r\n').usagePct).toBe(25);
  });
  it('has no percentage when maxmemory is 0 (unbounded)', () => {
    expect(parseMemoryInfo('used_memory:50\nmaxmemory:0\n').usagePct).toBeUndefined();
  });
});
