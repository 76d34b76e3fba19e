// Runbook section 4: Rex's Go/No-Go, one test per mandatory condition, decided from the phases' evidence.
import { afterAll, describe, expect, test } from 'vitest';
import { check } from '../lib/check';
import { target } from '../lib/config';
import { headSha } from '../lib/git';
import { postToSlack } from '../lib/slack';
import { caseName, gateMarkdown, writeGateArtefacts } from './artefacts';
import { conditions, evaluateGate } from './gate';

const t = target();
const deploySha = await headSha(t.projectDir).catch(() => 'unknown');
const gate = evaluateGate({ reportsDir: t.reportsDir, target: t.name, deploySha, maxAgeMin: t.evidenceMaxAgeMin });

afterAll(async () => {
  writeGateArtefacts(gate, t.reportsDir, t.secretValues);
  const slack = await postToSlack(process.env.SLACK_WEBHOOK_URL, gateMarkdown(gate));
  process.stdout.write(`\nGo/No-Go: ${gate.decision} — ${t.reportsDir}/gonogo.html${slack ? ` (${slack}; the decision stands)` : ''}\n`);
});

describe('4. Go/No-Go — mandatory conditions', () => {
  for (const [i, c] of conditions.entries()) {
    const r = gate.conditions[i]!;
    test(caseName(r), (ctx) => {
      const k = check(ctx, { id: `gonogo.${c.n}`, threshold: c.threshold, action: c.action });
      k.measured(r.measured);
      if (r.outcome === 'could-not-run') throw Object.assign(new Error(`${r.reason}\n  action: ${c.action}`), { name: 'CouldNotCheck' });
      expect(r.verdict, k.says(`${r.reason}; measured ${r.measured}`)).toBe('GO');
    });
  }

  test(caseName(gate.completeness), (ctx) => {
    const k = check(ctx, { id: 'gonogo.complete', threshold: gate.completeness.threshold, action: gate.completeness.action });
    k.measured(gate.completeness.measured);
    expect(gate.completeness.reason, k.says('failing or unreadable checks')).toBe('met');
  });
});
