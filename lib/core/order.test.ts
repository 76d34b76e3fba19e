import { describe, expect, it } from 'vitest';
import { byText, naturally } from './order';

describe('orderings without ICU', () => {
  it('byText is code-unit order', () => {
    expect(['b', 'B', 'a', 'a1', ''].sort(byText)).toEqual(['', 'B', 'a', 'a1', 'b']);
    expect(byText('x', 'x')).toBe(0);
  });

  it('naturally puts runs of digits in numeric order, the rest in code-unit order', () => {
    const files = ['/r/preflight/1.10-x.spec.ts', '/r/preflight/1.2-env.spec.ts', '/r/preflight/1.1-git.spec.ts'];
    expect([...files].sort(naturally)).toEqual([
      '/r/preflight/1.1-git.spec.ts',
      '/r/preflight/1.2-env.spec.ts',
      '/r/preflight/1.10-x.spec.ts',
    ]);
    expect(['r10', 'r9', 'r09x', 'q100'].sort(naturally)).toEqual(['q100', 'r9', 'r09x', 'r10']);
    // Numbers longer than a double holds are still compared exactly.
    expect(naturally('a123456789012345678901', 'a123456789012345678902')).toBeLessThan(0);
    // Equal by value, different by leading zeros: still a total order.
    expect(naturally('v01', 'v1')).not.toBe(0);
    expect(naturally('v01', 'v1')).toBe(-naturally('v1', 'v01'));
    expect(naturally('same', 'same')).toBe(0);
  });
});
