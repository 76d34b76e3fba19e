import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { naturally } from '../core/order.js';

/** Test files that take the Compose stack down (to run the stack on Swarm, on the same ports) and bring it back. */
export const runLast = ['test/swarm.test.ts'];

/**
 * Runbook order is path order (1.1-git before 1.2-env …); Vitest's default sorts by size and history. The files
 * in `runLast` come after every other.
 */
export default class RunbookSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const last = (s: TestSpecification) => (runLast.some((f) => s.moduleId.endsWith(f)) ? 1 : 0);
    return [...files].sort((a, b) => last(a) - last(b) || naturally(a.moduleId, b.moduleId));
  }
}
