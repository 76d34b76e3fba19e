// How long a step waits for its services: the runbook's deadline. A staging run may shorten it
// (RUNBOOK_STAGING_WAIT_S), so a test of a service that never comes up fails in seconds; config resolves that
// setting to nothing on production.
import { deadlineMs, type CheckId } from '../../runbook/catalogue.js';
import type { Target } from './config.js';

export function waitBudgetMs(t: Pick<Target, 'stagingWaitS'>, id: CheckId): number {
  const runbook = deadlineMs(id);
  return t.stagingWaitS === undefined ? runbook : Math.min(runbook, t.stagingWaitS * 1000);
}
