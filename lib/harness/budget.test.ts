import { describe, expect, it } from 'vitest';
import { deadlineMs } from '../../runbook/catalogue';
import { waitBudgetMs } from './budget';

describe('a step’s wait for its services', () => {
  it('is the runbook’s deadline unless a staging cap is set', () => {
    expect(waitBudgetMs({ stagingWaitS: undefined }, 'deploy.5')).toBe(deadlineMs('deploy.5'));
    expect(waitBudgetMs({ stagingWaitS: undefined }, 'rollback.4')).toBe(deadlineMs('rollback.4'));
    expect(waitBudgetMs({ stagingWaitS: undefined }, 'deploy.3')).toBe(deadlineMs('deploy.3'));
  });

  it('a cap shortens it, and never lengthens it past the runbook’s deadline', () => {
    expect(waitBudgetMs({ stagingWaitS: 5 }, 'deploy.5')).toBe(5000);
    expect(waitBudgetMs({ stagingWaitS: 5 }, 'deploy.3')).toBe(5000);
    expect(waitBudgetMs({ stagingWaitS: 100_000 }, 'deploy.5')).toBe(deadlineMs('deploy.5'));
  });
});
