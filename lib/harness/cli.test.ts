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
      options: {},
      command: undefined,
      named: [],
    });
    expect(parseCommand(watch, [])).toMatchObject({ ok: true, flags: {} });
  });

  it('a flag that takes a value gives it as written; one given none is refused', () => {
    const spec = { usage: 'x', summary: 'y', options: { nodes: 'how many' }, flags: { swarm: 'z' } };
    expect(parseCommand(spec, ['--swarm', '--nodes', '3'])).toMatchObject({
      ok: true,
      flags: { swarm: true },
      options: { nodes: '3' },
    });
    expect(parseCommand(spec, ['--swarm'])).toMatchObject({ ok: true, options: { nodes: undefined } });
    expect(parseCommand(spec, ['--nodes'])).toMatchObject({ ok: false, exit: 2 });
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
    for (const args of [[], ['sideways'], ['up', 'down'], ['constructor']])
      expect(parseCommand(staging, args)).toMatchObject({ ok: false, exit: 2 });
    expect(helpText(staging)).toMatch(/usage: npm run staging: <up\|down> \[flags\]/);
  });

  it('several commands where the command takes them: each a listed one, at most once; none names all', () => {
    const bench: CommandSpec = {
      usage: 'npm run bench --',
      summary: 'Figures.',
      commands: { smoke: 'smoke', launch: 'launch' },
      several: true,
    };
    expect(parseCommand(bench, ['launch', 'smoke'])).toMatchObject({ ok: true, named: ['launch', 'smoke'] });
    expect(parseCommand(bench, [])).toMatchObject({ ok: true, named: [] });
    for (const args of [['--help'], ['lanch'], ['smoke', 'smoke'], ['smoke', '--fast'], ['toString']]) {
      const p = parseCommand(bench, args);
      expect(p, args.join(' ')).toMatchObject({ ok: false, exit: args[0] === '--help' ? 0 : 2 });
      expect(p.ok ? '' : p.text).toMatch(/usage: npm run bench -- \[smoke\|launch …\] \[flags\]/);
    }
    expect(parseCommand(bench, ['smoke', 'lanch', 'smoke'])).toMatchObject({
      ok: false,
      text: expect.stringMatching(/^unknown or repeated: lanch smoke\n/),
    });
  });

  it('a flag typed without the lone -- reaches npm, not the command: refused, with the line to type', () => {
    const launch: CommandSpec = {
      usage: 'npm run launch --',
      summary: 'The launch.',
      flags: { 'no-deploy': 'no deploy' },
    };
    // What npm 11 leaves in the environment for `npm run launch --no-deploy` and `npm run watch --auto-rollback`.
    const p = parseCommand(launch, [], { npm_lifecycle_event: 'launch', npm_config_deploy: '' });
    expect(p).toMatchObject({ ok: false, exit: 2 });
    expect(p.ok ? '' : p.text).toMatch(
      /^--no-deploy went to npm, not to this command: .* npm run launch -- --no-deploy\n$/,
    );
    expect(parseCommand(watch, [], { npm_lifecycle_event: 'watch', npm_config_auto_rollback: 'true' })).toMatchObject({
      ok: false,
      exit: 2,
    });
  });

  it('typed after --, or with npm settings that are not our flags, or not started by npm: parsed as usual', () => {
    const launch: CommandSpec = {
      usage: 'npm run launch --',
      summary: 'The launch.',
      flags: { 'no-deploy': 'no deploy' },
    };
    const npmEnv = {
      npm_lifecycle_event: 'launch',
      npm_config_cache: '/root/.npm',
      npm_config_update_notifier: 'false',
    };
    expect(parseCommand(launch, ['--no-deploy'], npmEnv)).toMatchObject({ ok: true, flags: { 'no-deploy': true } });
    expect(parseCommand(launch, [], npmEnv)).toMatchObject({ ok: true, flags: {} });
    expect(parseCommand(launch, [], { npm_config_deploy: '' })).toMatchObject({ ok: true });
    expect(parseCommand(staging, ['up'], { npm_lifecycle_event: 'staging:up', npm_config_up: 'true' })).toMatchObject({
      ok: true,
    });
  });
});
