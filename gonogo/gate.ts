// Runbook section 4: the seven mandatory Go conditions, decided from the phases' evidence. Fails closed:
// missing, foreign, stale or not-run evidence is HOLD, with the reason.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evidencePath, readEvidence, type CheckRecord, type Phase, type PhaseEvidence } from '../lib/evidence.js';

export type Verdict = 'GO' | 'HOLD';
/** pass: checked and met; fail: checked and not met; could-not-run: no trustworthy measurement. */
export type Outcome = 'pass' | 'fail' | 'could-not-run';

export interface Condition {
  n: number;
  title: string;
  threshold: string;
  action: string;
  phase: Phase;
  checkId: string;
  /** Extra test of the measured value, so a pass recorded by an older harness cannot slip through. */
  verify?: (record: CheckRecord, evidenceAgeH: number) => string | undefined;
}

const p99Verify = (r: CheckRecord) => {
  const p99 = (r.measured as { p99_ms?: unknown } | undefined)?.p99_ms;
  if (typeof p99 !== 'number' || !Number.isFinite(p99)) return 'smoke 9 recorded no p99 sample';
  return p99 < 2000 ? undefined : `p99 ${p99} ms is not < 2000 ms`;
};

const backupVerify = (r: CheckRecord, evidenceAgeH: number) => {
  if (typeof r.measured !== 'number') return 'preflight 1.5 recorded no backup age';
  const ageNow = r.measured + evidenceAgeH;
  return ageNow < 24 ? undefined : `the backup is ${ageNow.toFixed(1)} h old by now`;
};

export const conditions: Condition[] = [
  { n: 1, title: 'API health endpoint', threshold: 'HTTP 200, status: ok', action: 'HOLD — page Bolt', phase: 'smoke', checkId: 'smoke.1' },
  { n: 2, title: 'DB healthy', threshold: 'Detailed health shows healthy', action: 'HOLD — page Bolt', phase: 'smoke', checkId: 'smoke.2' },
  { n: 3, title: 'Search functional', threshold: 'Returns results with USD pricing', action: 'HOLD — page Bolt', phase: 'smoke', checkId: 'smoke.4' },
  { n: 4, title: 'Affiliate redirects', threshold: '/go/ appends tag=buywhere-20', action: 'HOLD — page Sol/Link', phase: 'smoke', checkId: 'smoke.6' },
  { n: 5, title: 'Backup completed', threshold: '< 24h old', action: 'HOLD — run backup first', phase: 'preflight', checkId: 'preflight.1.5', verify: backupVerify },
  { n: 6, title: 'Disk usage', threshold: '< 85%', action: 'HOLD — emergency cleanup', phase: 'preflight', checkId: 'preflight.1.4' },
  { n: 7, title: 'P99 latency', threshold: '< 2s on search', action: 'HOLD — investigate warm-up', phase: 'smoke', checkId: 'smoke.9', verify: p99Verify },
];

export interface ConditionResult {
  n: number;
  title: string;
  threshold: string;
  action: string;
  verdict: Verdict;
  outcome: Outcome;
  measured: string;
  reason: string;
  evidenceAgeMin: number | undefined;
  evidenceFile: string;
}

export interface AdvisoryResult {
  title: string;
  status: string;
  measured: string;
  message: string;
}

export interface GateResult {
  decision: Verdict;
  target: string;
  deploySha: string;
  decidedAt: string;
  conditions: ConditionResult[];
  /** Every other blocking check of preflight, deploy and smoke (runbook §3: all must pass before Go). */
  completeness: ConditionResult;
  advisories: AdvisoryResult[];
  evidenceFiles: string[];
  launchStop?: string;
}

export interface GateInput {
  reportsDir: string;
  target: string;
  deploySha: string;
  now?: Date;
  maxAgeMin: number;
}

function show(v: unknown, unit?: string): string {
  if (v === undefined || v === null) return 'nothing measured';
  const text = typeof v === 'string' ? v : typeof v === 'number' ? String(Math.round(v * 100) / 100) : JSON.stringify(v);
  return unit && typeof v === 'number' ? `${text} ${unit}` : text;
}

type Loaded = { ok: true; evidence: PhaseEvidence; ageMin: number } | { ok: false; problem: string };

function load(input: GateInput, phase: Phase, now: Date): Loaded {
  const r = readEvidence(input.reportsDir, phase);
  if (!r.ok) return r;
  const e = r.evidence;
  const ageMin = (now.getTime() - new Date(e.finishedAt).getTime()) / 60_000;
  if (e.target !== input.target) return { ok: false, problem: `${phase} evidence is from target ${e.target}, not ${input.target}` };
  if (e.deploySha !== input.deploySha) return { ok: false, problem: `${phase} evidence is from DEPLOY_SHA ${e.deploySha}, not ${input.deploySha}: rerun \`npm run ${phase}\`` };
  if (!Number.isFinite(ageMin)) return { ok: false, problem: `${phase} evidence has no valid finish time` };
  // Deploy evidence records an event (the steps of this SHA's deploy), not a state that drifts: no window.
  if (phase !== 'deploy' && ageMin > input.maxAgeMin) return { ok: false, problem: `${phase} evidence is ${Math.round(ageMin)} min old (window ${input.maxAgeMin} min): rerun \`npm run ${phase}\`` };
  if (ageMin < -1) return { ok: false, problem: `${phase} evidence is dated in the future (${e.finishedAt})` };
  return { ok: true, evidence: e, ageMin };
}

export function evaluateGate(input: GateInput): GateResult {
  const now = input.now ?? new Date();
  const cache = new Map<Phase, Loaded>();
  const get = (p: Phase) => {
    if (!cache.has(p)) cache.set(p, load(input, p, now));
    return cache.get(p)!;
  };

  const results = conditions.map((c): ConditionResult => {
    const base = { n: c.n, title: c.title, threshold: c.threshold, action: c.action, evidenceFile: evidencePath(input.reportsDir, c.phase) };
    const hold = (outcome: Outcome, reason: string, measured = 'nothing measured', ageMin?: number): ConditionResult => ({ ...base, verdict: 'HOLD', outcome, measured, reason, evidenceAgeMin: ageMin });
    const l = get(c.phase);
    if (!l.ok) return hold('could-not-run', l.problem);
    const rec = l.evidence.checks.find((x) => x.id === c.checkId);
    if (!rec) return hold('could-not-run', `${c.checkId} is not in the ${c.phase} evidence`, undefined, l.ageMin);
    const measured = show(rec.measured, rec.unit);
    if (rec.status === 'fail') return hold('fail', rec.message ?? `${c.checkId} failed`, measured, l.ageMin);
    if (rec.status !== 'pass') return hold('could-not-run', `${c.checkId} ${rec.status}: ${rec.message ?? 'no reason given'}`, measured, l.ageMin);
    const extra = c.verify?.(rec, l.ageMin / 60);
    if (extra) return hold('fail', extra, measured, l.ageMin);
    return { ...base, verdict: 'GO', outcome: 'pass', measured, reason: 'met', evidenceAgeMin: l.ageMin };
  });

  const gateIds = new Set(conditions.map((c) => c.checkId));
  const advisories: AdvisoryResult[] = [];
  const blockers: string[] = [];
  const unreadable: string[] = [];
  for (const phase of ['preflight', 'deploy', 'smoke'] as Phase[]) {
    const l = get(phase);
    if (!l.ok) {
      // Deploy evidence is optional: Bolt may run smoke against a stack deployed earlier.
      if (phase !== 'deploy' || !/^no deploy evidence/.test(l.problem)) unreadable.push(l.problem);
      continue;
    }
    for (const rec of l.evidence.checks) {
      if (rec.advisory) {
        advisories.push({ title: rec.title, status: rec.status, measured: show(rec.measured, rec.unit), message: rec.message ?? '' });
        continue;
      }
      if (gateIds.has(rec.id)) continue;
      if (rec.status === 'pass') continue;
      if (rec.status === 'skipped' && rec.id.startsWith('preflight.1.3') && phase === 'preflight') {
        advisories.push({ title: rec.title, status: rec.status, measured: '', message: rec.message ?? '' });
        continue;
      }
      blockers.push(`${rec.title}: ${rec.status}${rec.message ? ` — ${rec.message.split('\n')[0]}` : ''}`);
    }
  }
  const launchStop = readLaunchStop(input.reportsDir);
  if (launchStop) blockers.unshift(`launch stopped: ${launchStop}`);
  const completeness: ConditionResult = {
    n: 8,
    title: 'Every other blocking check of preflight, deploy and smoke',
    threshold: 'all passed (runbook §3: all must pass before Go)',
    action: 'HOLD — page Bolt',
    verdict: blockers.length || unreadable.length ? 'HOLD' : 'GO',
    outcome: unreadable.length && !blockers.length ? 'could-not-run' : blockers.length ? 'fail' : 'pass',
    measured: `${blockers.length} failing, ${unreadable.length} unreadable`,
    reason: [...blockers, ...unreadable].join('; ') || 'met',
    evidenceAgeMin: undefined,
    evidenceFile: join(input.reportsDir, 'evidence'),
  };

  const decision: Verdict = results.every((r) => r.verdict === 'GO') && completeness.verdict === 'GO' ? 'GO' : 'HOLD';
  return {
    decision,
    target: input.target,
    deploySha: input.deploySha,
    decidedAt: now.toISOString(),
    conditions: results,
    completeness,
    advisories,
    evidenceFiles: (['preflight', 'deploy', 'smoke'] as Phase[]).map((p) => evidencePath(input.reportsDir, p)),
    launchStop,
  };
}

/** `npm run launch` leaves a note when it stopped before smoke; the gate shows it as the HOLD reason. */
export function readLaunchStop(reportsDir: string): string | undefined {
  try {
    const note = JSON.parse(readFileSync(join(reportsDir, 'evidence', 'launch.json'), 'utf8')) as { stopped?: string };
    return note.stopped || undefined;
  } catch {
    return undefined;
  }
}
