// Runbook section 4: Rex's Go/No-Go, one test per mandatory condition, decided from the phases' evidence.
import { afterAll, describe, expect, test } from 'vitest';
import { readSealKey } from '../lib/core/seal';
import { couldNotCheck } from '../lib/harness/check';
import { runOptions } from '../lib/harness/config';
import { target, targetOverrides } from '../lib/harness/run';
import { identify } from '../lib/harness/identify';
import { runContext } from '../lib/harness/run';
import { postToSlack } from '../lib/operations/slack';
import { conditions } from '../runbook/catalogue';
import { caseName, gateMarkdown, writeGateArtefacts } from './artefacts';
import { gateDecision } from './gate';
import '../lib/harness/gate-meta';

const t = target();
const run = runContext();
const gate = gateDecision({
  reportsDir: run.reportsDir,
  target: run.target,
  identity: await identify(t),
  settings: { deployBranch: t.deployBranch, replicaMaxLagBytes: t.replicaMaxLagBytes },
  maxAgeMin: t.evidenceMaxAgeMin,
  sealKey: readSealKey(t.evidenceKeyFile),
  overrides: targetOverrides(),
});

afterAll(async () => {
  writeGateArtefacts(gate, run.reportsDir, t.secretValues);
  const slack = await postToSlack(runOptions().slackWebhook, gateMarkdown(gate), t.secretValues);
  process.stdout.write(
    `\nGo/No-Go: ${gate.decision} for build ${gate.deploySha}${gate.launchStop ? ` (launch stopped: ${gate.launchStop})` : ''} — ${run.reportsDir}/gonogo.html${slack ? ` (${slack}; the decision stands)` : ''}\n`,
  );
});

describe('4. Go/No-Go — mandatory conditions', () => {
  for (const [i, c] of conditions.entries()) {
    const r = gate.conditions[i]!;
    test(caseName(r), (ctx) => {
      ctx.task.meta.gate = { decision: gate.decision, identity: gate.identity };
      if (r.outcome === 'could-not-run') couldNotCheck(r.reason, c.action, t.secretValues);
      expect(r.verdict, `${r.reason}; measured ${r.measured} [${c.action}]`).toBe('GO');
    });
  }

  test(caseName(gate.completeness), (ctx) => {
    ctx.task.meta.gate = { decision: gate.decision, identity: gate.identity };
    expect(gate.completeness.reason, `[${gate.completeness.action}]`).toBe('met');
  });
});
