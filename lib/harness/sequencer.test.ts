import type { TestSpecification } from 'vitest/node';
import { describe, expect, it } from 'vitest';
import RunbookSequencer from './sequencer';

const spec = (moduleId: string) => ({ moduleId }) as unknown as TestSpecification;
const order = async (ids: string[]) =>
  (await new RunbookSequencer({} as never).sort(ids.map(spec))).map((s) => s.moduleId.replace('/repo/', ''));

describe('RunbookSequencer', () => {
  it('runs files in path order, numbers by value (1.10 after 1.9)', async () => {
    expect(
      await order(['/repo/preflight/1.10-x.spec.ts', '/repo/preflight/1.9-y.spec.ts', '/repo/preflight/1.1-z.spec.ts']),
    ).toEqual(['preflight/1.1-z.spec.ts', 'preflight/1.9-y.spec.ts', 'preflight/1.10-x.spec.ts']);
  });

  it('runs the Swarm file after every other, whatever its name sorts as', async () => {
    expect(
      await order([
        '/repo/test/watch.test.ts',
        '/repo/test/swarm.test.ts',
        '/repo/test/deploy.test.ts',
        '/repo/lib/a.test.ts',
      ]),
    ).toEqual(['lib/a.test.ts', 'test/deploy.test.ts', 'test/watch.test.ts', 'test/swarm.test.ts']);
  });
});
