// What every phase but the gate does as it starts (each phase's setup.ts runs it). A Go/No-Go decision stands
// only for the evidence it was made from: when a phase starts in its reports folder, that evidence is about to
// change, so the decision there is replaced by a HOLD that says which run withdrew it. A GO read from the folder after a later smoke failed, or
// while it runs, is never the one the gate made before it; a GO posted to Slack is withdrawn there too. In a run
// that holds the gate (`npm run launch -- --no-deploy`), a phase that cannot start writes the gate's HOLD itself.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { clearLaunchStop, readGateRecord, type Phase } from '../lib/harness/evidence.js';
import { reportsDirFrom, runOptions } from '../lib/harness/config.js';
import phaseSetup from '../lib/harness/phase-setup.js';
import { postToSlack } from '../lib/operations/slack.js';
import { gateArtefacts, writeHold } from './hold.js';

export async function withdrawDecision(
  reportsDir: string,
  phase: Phase,
  startedAt: string,
  webhook = runOptions().slackWebhook,
): Promise<void> {
  const record = readGateRecord(reportsDir) as
    { decision?: string; decidedAt?: string; deploySha?: string; target?: string; withdrawn?: unknown } | undefined;
  // An artefact without its record (removed, or unreadable) is withdrawn too: a GO page must not outlive it.
  if (record?.withdrawn || (!record && !gateArtefacts.some((f) => existsSync(join(reportsDir, f))))) return;
  const build = record?.deploySha ?? 'unknown';
  const was = `${record?.decision ?? 'a decision'} for build ${build}, decided ${record?.decidedAt ?? 'at an unknown time'}`;
  await writeHold(
    `the earlier decision (${was}) was withdrawn when a ${phase} run started here at ${startedAt}: the evidence it was made from changed. Run \`npm run gonogo\` once the phases have run`,
    { reportsDir, target: record?.target ?? 'unknown', deploySha: build },
    { withdrawn: { decision: record?.decision, decidedAt: record?.decidedAt, by: phase, at: startedAt } },
  );
  process.stdout.write(`Go/No-Go: the earlier decision here (${was}) is withdrawn until the gate runs again\n`);
  if (record?.decision !== 'GO') return;
  const { runbookTime } = await import('./artefacts.js');
  const decided = record.decidedAt ? ` decided ${runbookTime(record.decidedAt)}` : '';
  const failed = await postToSlack(
    webhook,
    `⚠️ GO WITHDRAWN — BuyWhere deploy ${build}\nThe GO${decided} no longer stands: a ${phase} run started at ${runbookTime(startedAt)}. Wait for the next Go/No-Go.\nLead: Bolt\n`,
    [],
  );
  if (failed) process.stderr.write(`${failed}; tell #us-launch-ops by hand that the GO for ${build} is withdrawn\n`);
}

/**
 * What a phase's start does to the folder's decision: withdraws it, and clears the note of where an earlier launch
 * stopped. That note is about the launch that wrote it; once a phase runs again here, the gate judges the new
 * evidence, and an older launch's "preflight failed" must not hold a run whose preflight passed.
 */
export async function phaseStarts(reportsDir: string, phase: Phase, startedAt: string, webhook?: string) {
  clearLaunchStop(reportsDir);
  await withdrawDecision(reportsDir, phase, startedAt, webhook);
}

/** The global setup of every phase but the gate: the run resolved once (phase-setup), and the decision withdrawn. */
export function startPhase(project: TestProject) {
  const name = project.name as Phase;
  const withGate = project.vitest.projects.some((p) => p.name === 'gonogo');
  return phaseSetup(project, {
    onStart: phaseStarts,
    // The process stops here, before the gate of this run could start: its HOLD says why.
    onConfigError: withGate
      ? (message) =>
          writeHold(`${name} could not start, so no check ran: configuration error: ${message}`, {
            reportsDir: reportsDirFrom(),
            target: runOptions().targetName,
            deploySha: 'unknown',
          })
      : undefined,
  });
}
