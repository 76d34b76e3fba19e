// The command line of every script: --help, strict flags (an unknown one is an error, never ignored) and one
// exit-code scheme for all of them.
import { parseArgs } from 'node:util';

/**
 * 0: pass or GO. 1: a failed check, one that could not run, or HOLD. 2: the command itself could not start. 130: a
 * deploy or rollback stopped at its confirmation prompt with Ctrl-C, as a shell reports SIGINT.
 */
export const exitCode = { pass: 0, hold: 1, couldNotStart: 2, interrupted: 130 } as const;

export interface CommandSpec {
  /** As typed: "npm run watch --". */
  usage: string;
  summary: string;
  flags?: Record<string, string>;
  /** Flags that take a value (`--nodes 3`), each with what it does. */
  options?: Record<string, string>;
  /** Allowed first positional arguments, each with what it does; none allowed when absent. */
  commands?: Record<string, string>;
  /** Any number of the commands may be named, each at most once (none: all of them). @default false: exactly one */
  several?: boolean;
  /** Environment settings the command reads beyond the runbook's own (see docs/settings.md). */
  env?: Record<string, string>;
}

export type Parsed =
  | {
      ok: true;
      flags: Record<string, boolean>;
      options: Record<string, string | undefined>;
      command: string | undefined;
      named: string[];
    }
  | { ok: false; exit: 0 | 2; text: string };

export function helpText(spec: CommandSpec): string {
  const lines = [
    `usage: ${spec.usage}${spec.commands ? (spec.several ? ` [${Object.keys(spec.commands).join('|')} …]` : ` <${Object.keys(spec.commands).join('|')}>`) : ''} [flags]`,
    '',
    spec.summary,
    '',
  ];
  if (spec.commands) {
    lines.push('commands:');
    for (const [c, what] of Object.entries(spec.commands)) lines.push(`  ${c.padEnd(20)} ${what}`);
    lines.push('');
  }
  lines.push('flags:');
  for (const [f, what] of Object.entries(spec.options ?? {})) lines.push(`  --${`${f} <n>`.padEnd(18)} ${what}`);
  for (const [f, what] of Object.entries({ ...spec.flags, help: 'print this help and exit' }))
    lines.push(`  --${f.padEnd(18)} ${what}`);
  if (spec.env) {
    lines.push('', 'environment:');
    for (const [k, what] of Object.entries(spec.env)) lines.push(`  ${k.padEnd(20)} ${what}`);
  }
  lines.push(
    '',
    'exit codes: 0 pass or GO; 1 fail, could not check, or HOLD; 2 could not start (bad flags or settings); 130 stopped at a prompt (Ctrl-C)',
  );
  return lines.join('\n') + '\n';
}

/**
 * The flag of ours that npm took for its own setting: `npm run launch --no-deploy`, without the lone `--`, hands
 * npm `deploy=false` (as `npm_config_deploy` in the environment) and runs the script without the flag, here a
 * launch with a deploy. Undefined when the command was not started by npm, or none went astray.
 */
export function flagTakenByNpm(spec: CommandSpec, env: NodeJS.ProcessEnv): string | undefined {
  if (!env.npm_lifecycle_event) return undefined;
  const setting = (key: string) => `npm_config_${key.replace(/-/g, '_')}`;
  return Object.keys(spec.flags ?? {}).find((f) =>
    [f, ...(f.startsWith('no-') ? [f.slice(3)] : [])].some((key) => setting(key) in env),
  );
}

export function parseCommand(spec: CommandSpec, argv: string[], env: NodeJS.ProcessEnv = process.env): Parsed {
  const astray = flagTakenByNpm(spec, env);
  if (astray)
    return {
      ok: false,
      exit: 2,
      text: `--${astray} went to npm, not to this command: npm read it as a setting of its own, and the command would run without it. Put it after a lone --: npm run ${env.npm_lifecycle_event} -- --${astray}\n`,
    };
  const names = [...Object.keys(spec.flags ?? {}), 'help'];
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(names.map((n) => [n, { type: 'boolean' as const }])),
        ...Object.fromEntries(Object.keys(spec.options ?? {}).map((n) => [n, { type: 'string' as const }])),
      },
      allowPositionals: !!spec.commands,
      strict: true,
    });
  } catch (err) {
    return { ok: false, exit: 2, text: `${(err as Error).message}\n\n${helpText(spec)}` };
  }
  const values = parsed.values as Record<string, boolean | string | undefined>;
  const options = Object.fromEntries(Object.keys(spec.options ?? {}).map((o) => [o, values[o] as string | undefined]));
  const flags = Object.fromEntries(Object.entries(values).filter(([, v]) => typeof v === 'boolean')) as Record<
    string,
    boolean
  >;
  if (flags.help) return { ok: false, exit: 0, text: helpText(spec) };
  const [command, ...extra] = parsed.positionals;
  if (spec.commands && spec.several) {
    const wrong = parsed.positionals.filter((c, i, all) => !Object.hasOwn(spec.commands!, c) || all.indexOf(c) !== i);
    if (wrong.length)
      return { ok: false, exit: 2, text: `unknown or repeated: ${wrong.join(' ')}\n\n${helpText(spec)}` };
    return { ok: true, flags, options, command: undefined, named: parsed.positionals };
  }
  if (spec.commands) {
    if (!command || !Object.hasOwn(spec.commands, command) || extra.length)
      return {
        ok: false,
        exit: 2,
        text: `${command ? `unknown command "${[command, ...extra].join(' ')}"` : 'a command is needed'}\n\n${helpText(spec)}`,
      };
  }
  return { ok: true, flags, options, command, named: command ? [command] : [] };
}

/** Parses the process's arguments; prints help or the error and exits when there is nothing to run. */
export function commandLine(
  spec: CommandSpec,
  argv = process.argv.slice(2),
): {
  flags: Record<string, boolean>;
  options: Record<string, string | undefined>;
  command: string | undefined;
  named: string[];
} {
  const p = parseCommand(spec, argv);
  if (p.ok) return p;
  (p.exit === 0 ? process.stdout : process.stderr).write(p.text);
  process.exit(p.exit);
}
