// The production confirmation prompt on a real terminal (tmux): Bolt sees the plan and the prompt, nothing draws
// over them, and every way of not confirming ends on one line with its exit code and nothing changed. A pipe would
// hide what a terminal shows (Vitest draws its live summary only on a TTY), so these run in a tmux pane.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../lib/core/exec';
import { waitUntil } from '../lib/core/wait';
import { repoRoot } from '../lib/harness/config';
import { evidencePath } from '../lib/harness/evidence';
import { statePath } from '../lib/operations/rollback-state';
import { productionEnv, projectHead, reportsDir, t } from './support/harness';

// A server of its own, so the tests never meet a person's tmux sessions.
const tmux = (...args: string[]) => run(['tmux', '-L', 'runbook-prompt-test', ...args], { timeoutMs: 10_000 });
let envFile = '';
let reports = '';
let sha = '';

beforeAll(async () => {
  sha = await projectHead();
  reports = reportsDir();
  // The settings reach the pane's shell through a file only its owner reads: never on a command line.
  envFile = join(tmpdir(), `runbook-prompt-${process.pid}.env`);
  const env = { ...productionEnv(), RUNBOOK_REPORTS_DIR: reports };
  writeFileSync(
    envFile,
    Object.entries(env)
      .map(([k, v]) => `${k}='${v.replace(/'/g, `'\\''`)}'\n`)
      .join(''),
    {
      mode: 0o600,
    },
  );
});

afterAll(async () => {
  await tmux('kill-server');
});

/** Starts `npm run <phase>` in a 200×60 pane, as Bolt would type it; its shell prints EXIT=<code> when it ends. */
async function terminal(name: string, phase: 'deploy' | 'rollback') {
  const script = `set -a; . '${envFile}'; set +a; cd '${repoRoot}'; npm run ${phase}; echo "EXIT=$?"; exec sleep 600`;
  const r = await tmux(
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    '200',
    '-y',
    '60',
    'bash',
    '--noprofile',
    '--norc',
    '-c',
    script,
  );
  expect(r.exitCode, r.output).toBe(0);
  const screen = async () => (await tmux('capture-pane', '-p', '-t', name)).output;
  const until = (what: string, re: RegExp) =>
    waitUntil(
      async () => {
        const s = await screen();
        return re.test(s) ? { ready: true, value: s } : { ready: false, last: s.trim().split('\n').at(-1) ?? '' };
      },
      { what: `${name}: ${what}`, timeoutMs: 60_000, intervalMs: 250 },
    ).then((r) => r.value);
  return { screen, until, keys: (...keys: string[]) => tmux('send-keys', '-t', name, ...keys) };
}

const changedNothing = () => {
  expect(existsSync(evidencePath(reports, 'deploy')), 'no deploy evidence').toBe(false);
  expect(existsSync(join(t.projectDir, '.deploy.lock')), 'no lock').toBe(false);
};

describe('the production prompt on a terminal', () => {
  it('the plan and the prompt stay on screen until answered; a wrong answer is one line, exit 2', async () => {
    const readState = () =>
      existsSync(statePath(t.projectDir)) ? readFileSync(statePath(t.projectDir), 'utf8') : null;
    const state = readState();
    const term = await terminal('wrong', 'deploy');
    const prompt = `Type ${sha} to deploy production, or Ctrl-C to stop:`;
    const shown = await term.until('the prompt', new RegExp(prompt));
    expect(shown).toMatch(/Plan: deploy/);
    // Vitest's live summary redraws within a second of any output: a while later the screen must be as it was.
    await new Promise((r) => setTimeout(r, 3000));
    const later = await term.screen();
    expect(later).toBe(shown);
    expect(later).not.toMatch(/Duration/);
    await term.keys('0000000', 'Enter');
    const end = await term.until('the deploy to end', /EXIT=\d+/);
    expect(end).toMatch(/EXIT=2\b/);
    const after = end.slice(end.indexOf(prompt) + prompt.length);
    expect(after).toMatch(
      new RegExp(`deploy did not start: confirmation "0000000" is not ${sha}, .*RUNBOOK_CONFIRM=${sha} npm run deploy`),
    );
    expect(after).not.toMatch(/Unhandled|No test files found|^\s+at /m);
    changedNothing();
    expect(readState()).toBe(state);
  });

  it('Ctrl-C at the prompt exits 130, saying nothing was changed', async () => {
    const term = await terminal('interrupt', 'deploy');
    await term.until('the prompt', /or Ctrl-C to stop:/);
    await term.keys('C-c');
    const end = await term.until('the deploy to end', /EXIT=\d+/);
    expect(end).toMatch(/EXIT=130\b/);
    expect(end).toMatch(/deploy did not start: stopped at the prompt \(Ctrl-C\)\. Nothing was changed\./);
    expect(end).not.toMatch(/Unhandled|^\s+at /m);
    changedNothing();
  });

  it('end of input (Ctrl-D) is no answer: one line naming the command, exit 2', async () => {
    const term = await terminal('eof', 'rollback');
    await term.until('the prompt', /to rollback production, or Ctrl-C to stop:/);
    await term.keys('C-d');
    const end = await term.until('the rollback to end', /EXIT=\d+/);
    expect(end).toMatch(/EXIT=2\b/);
    expect(end).toMatch(
      /rollback did not start: production rollback not confirmed\. .*RUNBOOK_CONFIRM=\w+ npm run rollback/,
    );
    expect(end).not.toMatch(/Unhandled|No test files found|^\s+at /m);
    expect(existsSync(evidencePath(reports, 'rollback'))).toBe(false);
  });
});
