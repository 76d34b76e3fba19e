import { describe, expect, it } from 'vitest';
import { helpText, parseCommand, type CommandSpec } from './cli';

const watch: CommandSpec = {
  usage: 'npm run watch --',
  summary: 'Samples the rollback triggers.',
  flags: { 'auto-rollback': 'run the rollback on a sustained critical trigger' },
};
const staging: CommandSpec = {
  usage: 'npm run staging:',
  summary: 'The local staging stack.',
  commands: { up: 'bring it up', down: 'take it down' },
};

describe('command line', () => {
  it('known flags parse; absent ones are false', () => {
    expect(parseCommand(watch, ['--auto-rollback'])).toEqual({
      ok: true,
      flags: { 'auto-rollback': true },
      command: undefined,
    });
    expect(parseCommand(watch, [])).toMatchObject({ ok: true, flags: {} });
  });

  it.each([['--auto-rolback'], ['--auto-rollback=yes'], ['stray'], ['-x']])(
    'an unknown flag, a flag with a value or a stray argument (%s) is an error that exits 2 with the usage',
    (arg) => {
      const p = parseCommand(watch, [arg]);
      expect(p).toMatchObject({ ok: false, exit: 2 });
      expect(p.ok ? '' : p.text).toMatch(/usage: npm run watch --/);
    },
  );

  it('--help prints flags, exit codes and exits 0', () => {
    const p = parseCommand(watch, ['--help']);
    expect(p).toMatchObject({ ok: false, exit: 0 });
    expect(p.ok ? '' : p.text).toBe(helpText(watch));
    expect(helpText(watch)).toMatch(/--auto-rollback +run the rollback/);
    expect(helpText(watch)).toMatch(/exit codes: 0 pass or GO; 1 fail, could not check, or HOLD; 2 could not start/);
  });

  it('a command is one of the listed ones, exactly one', () => {
    expect(parseCommand(staging, ['up'])).toMatchObject({ ok: true, command: 'up' });
    for (const args of [[], ['sideways'], ['up', 'down']])
      expect(parseCommand(staging, args)).toMatchObject({ ok: false, exit: 2 });
    expect(helpText(staging)).toMatch(/usage: npm run staging: <up\|down> \[flags\]/);
  });
});
