import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Runbook order is path order (1.1-git before 1.2-env …); Vitest's default sorts by size and history. */
export default class RunbookSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId, 'en', { numeric: true }));
  }
}
