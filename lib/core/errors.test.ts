import { expect, test } from 'vitest';
import { CheckFailed, ConfigError, CouldNotCheck, isCouldNotCheck, Refused, WaitTimeout } from './errors';

test.each([
  ['CouldNotCheck', new CouldNotCheck('unreachable'), true],
  ['WaitTimeout', new WaitTimeout('no answer in 60 s'), true],
  ['ConfigError', new ConfigError('RUNBOOK_DB_URL', 'a URL', 'nothing', 'Set it.'), true],
  ['Refused', new Refused('lock held', 'wait'), true],
  ['CheckFailed', new CheckFailed('84.9 % used'), false],
  ['a plain Error', new Error('boom'), false],
  ['an Error named CouldNotCheck', Object.assign(new Error('x'), { name: 'CouldNotCheck' }), false],
])('%s is a could-not-check: %s, before and after serialisation', (_, err, expected) => {
  expect(isCouldNotCheck(err)).toBe(expected);
  // What a worker sends to the reporter: own fields, no class.
  expect(isCouldNotCheck(JSON.parse(JSON.stringify({ ...err, message: err.message })))).toBe(expected);
});

test('values that are not errors are not could-not-checks', () => {
  for (const v of [undefined, null, 'CouldNotCheck', { couldNotCheck: 'yes' }]) expect(isCouldNotCheck(v)).toBe(false);
});
