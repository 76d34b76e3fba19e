import { describe, expect, it } from 'vitest';
import { buildLogFindings } from './build-log';

describe("step 2's build log", () => {
  it.each([
    ['apt: missing package', 'E: Unable to locate package libfoo-dev'],
    ['apt: missing package', "E: Package 'python3-bar' has no installation candidate"],
    [
      'pip: missing package',
      'ERROR: Could not find a version that satisfies the requirement torch==9.9 (from versions: none)',
    ],
    ['pip: missing package', 'ERROR: No matching distribution found for torch==9.9'],
    ['python: missing module', "ModuleNotFoundError: No module named 'psycopg2'"],
    ['npm: missing package', 'npm ERR! code E404'],
    ['npm: missing package', 'npm error 404 Not Found - GET https://registry.npmjs.org/nope'],
    ['node: missing module', "Error: Cannot find module 'express'"],
    ['npm: failed test step', 'npm ERR! Test failed.  See above for more details.'],
    ['npm: failed test step', 'npm error code ELIFECYCLE'],
    ['pytest: failed test step', 'FAILED tests/test_search.py::test_usd - AssertionError'],
    ['pytest: failed test step', '==== 2 failed, 40 passed in 3.21s ===='],
    ['test: failed test step', '      Tests  3 failed | 120 passed (123)'],
    ['docker: warning', '[WARNING]: package libssl1.1 not found'],
  ])('%s: %s', (kind, line) => {
    // As compose v1 and BuildKit prefix them, too.
    for (const prefixed of [line, `api  | ${line}`, `#12 3.456 ${line}`])
      expect(buildLogFindings(`Step 1/4 : FROM base\n${prefixed}\nSuccessfully built abc\n`)).toEqual([
        { kind, line: prefixed },
      ]);
  });

  it('a clean log has no findings, nor do words that only look alike', () => {
    const clean = [
      'Step 3/7 : RUN apt-get install -y libpq5',
      'Setting up libpq5 (15.5-0+deb12u1) ...',
      'Successfully installed psycopg2-2.9.9',
      'added 120 packages in 3s',
      '==== 42 passed in 3.1s ====',
      '      Tests  123 passed (123)',
      'WARNING: The requested image platform does not match',
      'Successfully tagged buywhere-api:latest',
    ].join('\n');
    expect(buildLogFindings(clean)).toEqual([]);
  });
});
