import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './config';
import { reporterProblem } from './phase-setup';
import RunbookReporter from './reporter';

describe("a phase starts only with the runbook's reporter", () => {
  it('the configured reporters, or a --reporter flag that names it beside another, start', () => {
    expect(reporterProblem(['default', new RunbookReporter(), ['html', {}]])).toBeUndefined();
    expect(reporterProblem([['dot', {}], new RunbookReporter()])).toBeUndefined();
    for (const name of ['./lib/harness/reporter.ts', 'lib/harness/reporter', './lib/harness/reporter.js'])
      expect(
        reporterProblem(
          [
            ['dot', {}],
            [name, {}],
          ],
          repoRoot,
        ),
        name,
      ).toBeUndefined();
    expect(reporterProblem([join(repoRoot, 'lib', 'harness', 'reporter.ts')], '/')).toBeUndefined();
  });

  it('reporters that replaced it (--reporter=dot) do not: the run would write no evidence and scrub nothing', () => {
    for (const reporters of [[['dot', {}]], [], ['default', { onInit() {} }], [['./lib/harness/reporter.test.ts', {}]]])
      expect(reporterProblem(reporters)).toMatch(
        /the runbook's reporter is not in this run .* writes no evidence for the gate and does not scrub secrets .* add --reporter=\.\/lib\/harness\/reporter\.ts/,
      );
  });

  it('is recognised by its mark, not its class: the config and the setup load it separately', () => {
    expect(reporterProblem([{ [Symbol.for('buywhere-runbook.writes-evidence')]: true }])).toBeUndefined();
  });
});
