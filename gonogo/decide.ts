// Runbook section 4: the seven mandatory Go conditions, derived from what the runbook requires rather than
// from whatever records are found. Every blocking check of preflight and smoke must be present exactly once
// in one whole, fresh run of its phase, measured against this target's endpoints and the build that is
// running; each is re-judged from its measured record with the catalogue's own rule; the last deploy or
// rollback must have finished and put that build there. Anything else is HOLD, with the reason.
//
// Pure: it decides from values (what load.ts read, the gate's identity, its settings and the time) and reads
// nothing itself, so every rule is tested on plain values.
import type { CheckRecord, PhaseEvidence } from '../lib/harness/evidence.js';
import { identityDiff, probedBy, sameBuild, type Identity } from '../lib/harness/identity.js';
import { measuredInWords } from '../runbook/words.js';
import {
  checksOf,
  clockSkewMs,
  conditions,
  entry,
  formatThreshold,
  type GoCondition,
  type Measured,
  judge,
  lookup,
  type JudgeSettings,
  type RunbookPhase,
} from '../runbook/catalogue.js';
import type { GatePhase, LoadedEvidence, PhaseFile } from './load.js';

export type Verdict = 'GO' | 'HOLD';
/** pass: checked and met; fail: checked and not met; could-not-run: no trustworthy measurement. */
export type Outcome = 'pass' | 'fail' | 'could-not-run';

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
  /** The build that is running, as the gate found it: the build the decision is about. */
  deploySha: string;
  decidedAt: string;
  conditions: ConditionResult[];
  /** Every other blocking check, the completeness and identity of the evidence, and the last deploy or rollback. */
  completeness: ConditionResult;
  advisories: AdvisoryResult[];
  evidenceFiles: string[];
  launchStop?: string;
  /** Set when a later phase run withdrew this folder's decision (gonogo/withdraw.ts). */
  withdrawn?: { decision?: string; decidedAt?: string; by: string; at: string };
  /** When this decision stops holding: the first evidence window or backup age to run out. */
  validUntil?: string;
  /** The gate's own view it decided with (endpoints, CA, directories, the running build and its sources). */
  identity?: Identity;
  /** Settings the gate ran with that differ from its target's defaults, shown to whoever reads the decision. */
  overrides?: Array<{ env: string; value: string }>;
}

/** What the gate decides with besides the evidence: its target, the freshness window and the judges' settings. */
export interface DecideSettings extends JudgeSettings {
  target: string;
  maxAgeMin: number;
}

export const completenessTitle =
  'Every other blocking check, whole and untampered evidence, and a finished deploy of the running build';
const completenessThreshold =
  'all passed; evidence complete, fresh, of this target, its endpoints and the running build';

function show(v: unknown): string {
  if (v === undefined || v === null) return 'nothing measured';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(Math.round(v * 100) / 100);
  const text = JSON.stringify(v);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

const statuses = new Set(['pass', 'fail', 'error', 'skipped', 'not-run']);
const validDate = (s: unknown): s is string => typeof s === 'string' && Number.isFinite(Date.parse(s));

/** A phase's evidence as the gate may use it, or every reason it may not. */
type Loaded =
  | { phase: GatePhase; ok: true; evidence: PhaseEvidence; ageMin: number; records: Map<string, CheckRecord> }
  | { phase: GatePhase; ok: false; problems: string[]; absent?: boolean };

function usable(
  file: PhaseFile,
  identity: Identity,
  settings: DecideSettings,
  now: Date,
  opts: { drifts: boolean },
): Loaded {
  const { phase, path, raw } = file;
  if (file.absent)
    return { phase, ok: false, absent: true, problems: [`no ${phase} evidence: run \`npm run ${phase}\``] };
  if (file.unreadable) return { phase, ok: false, problems: [`${phase} evidence ${path} is not valid JSON`] };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { phase, ok: false, problems: [`${phase} evidence is not an object`] };
  const e = raw as PhaseEvidence;
  const problems: string[] = [];
  if (file.unsealed)
    problems.push(`${phase} evidence is not as its run wrote it: ${file.unsealed}; rerun \`npm run ${phase}\``);
  if (file.replayed)
    problems.push(`${phase} evidence is not the last run's: ${file.replayed}; rerun \`npm run ${phase}\``);
  if (e.phase !== phase) problems.push(`${path} is not ${phase} evidence`);
  if (e.target !== settings.target)
    problems.push(`${phase} evidence is from target ${show(e.target)}, not ${settings.target}`);
  if (!validDate(e.finishedAt) || !validDate(e.startedAt))
    problems.push(`${phase} evidence has no valid start and finish time`);
  const ageMin = validDate(e.finishedAt) ? (now.getTime() - Date.parse(e.finishedAt)) / 60_000 : NaN;
  if (ageMin < -clockSkewMs / 60_000) problems.push(`${phase} evidence is dated in the future (${e.finishedAt})`);
  if (opts.drifts && ageMin > settings.maxAgeMin)
    problems.push(
      `${phase} evidence is ${Math.round(ageMin)} min old (window ${settings.maxAgeMin} min): rerun \`npm run ${phase}\``,
    );
  if (e.outcome === 'started')
    problems.push(`a ${phase} started at ${e.startedAt} and never finished (killed or crashed)`);
  // Such a run probed nothing: its reason is the one to show, not that it recorded no identity.
  const couldNotStart = typeof e.outcome === 'string' && e.outcome.startsWith('configuration error: ');
  if (couldNotStart)
    problems.push(`the ${phase} run could not start (${e.outcome}): fix it and rerun \`npm run ${phase}\``);
  if (Array.isArray(e.partial) && e.partial.length)
    problems.push(`the ${phase} run was partial (${e.partial.map(String).join('; ')}): only a whole run counts`);
  else if (e.partial !== undefined && !Array.isArray(e.partial))
    problems.push(`${phase} evidence: "partial" is malformed`);
  if (!couldNotStart)
    problems.push(
      ...identityDiff(e.identity, identity, probedBy[phase]).map(
        (d) => `${phase} evidence probed something else: ${d}`,
      ),
    );
  const records = new Map<string, CheckRecord>();
  if (!Array.isArray(e.checks)) problems.push(`${phase} evidence holds no list of checks`);
  else {
    e.checks.forEach((r: unknown, i) => {
      if (typeof r !== 'object' || r === null || Array.isArray(r))
        return problems.push(`${phase} record #${i + 1} is malformed (${show(r)})`);
      const rec = r as CheckRecord;
      if (typeof rec.id !== 'string' || !statuses.has(rec.status) || !validDate(rec.at))
        return problems.push(
          `${phase} record #${i + 1} (${show(rec.id)}) is malformed: it needs an id, a status and a time`,
        );
      if (Date.parse(rec.at) - now.getTime() > clockSkewMs)
        problems.push(`${rec.id} is dated in the future (${rec.at})`);
      if (records.has(rec.id)) return problems.push(`${rec.id} is recorded more than once in the ${phase} evidence`);
      const known = lookup(rec.id)?.phase === phase || rec.id === `${phase}.load` || rec.id === `${phase}.config`;
      if (!known) problems.push(`${rec.id} is not a ${phase} check of the runbook`);
      records.set(rec.id, rec);
    });
  }
  if (problems.length) return { phase, ok: false, problems };
  return { phase, ok: true, evidence: e, ageMin, records };
}

/** Why one record does not show its check passed: not run, failed, or a measurement that breaks the rule. */
function recordProblem(
  rec: CheckRecord | undefined,
  id: string,
  settings: JudgeSettings,
): { outcome: Outcome; why: string } | undefined {
  if (!rec) return { outcome: 'could-not-run', why: `${id} is missing from the evidence` };
  if (rec.status === 'fail')
    return {
      outcome: 'fail',
      why: `${id} failed: ${(rec.message ?? 'no reason given').split('\n').slice(0, 4).join(' ')}`,
    };
  if (rec.status !== 'pass')
    return {
      outcome: 'could-not-run',
      why: `${id} ${rec.status}: ${(rec.message ?? 'no reason given').split('\n')[0]}`,
    };
  const why = judge(id, rec.measured, settings);
  return why
    ? { outcome: 'fail', why: `${id} was recorded as a pass, but its measurement does not meet the runbook: ${why}` }
    : undefined;
}

/**
 * Whether an API's /health named a build, as a commit SHA, other than the running one. An API that names its build
 * must name the one Docker runs; one that names none, or names it some other way, is left to the checks' own rules.
 */
const namesAnotherBuild = (answered: unknown, running: string): answered is string =>
  typeof answered === 'string' && /^[0-9a-f]{7,40}$/.test(answered) && !sameBuild(answered, running);

/** Replicas whose own /health named a build other than the running one, in words; none when none did. */
function replicasOfOtherBuilds(rec: CheckRecord | undefined, running: string): string[] {
  const replicas = (rec?.measured as { replicas?: unknown } | undefined)?.replicas;
  if (!Array.isArray(replicas)) return [];
  return replicas
    .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null)
    .filter((r) => namesAnotherBuild(r.build, running))
    .map((r) => `replica ${show(r.slot)} on ${show(r.node)} answers /health as build ${show(r.build)}`);
}

/** Blocking checks of a phase that are missing, did not pass, or whose measurement breaks the rule. */
function phaseProblems(
  l: Extract<Loaded, { ok: true }>,
  settings: JudgeSettings,
  skip: Set<string> = new Set(),
): string[] {
  const out: string[] = [];
  for (const rec of l.records.values()) {
    if (!lookup(rec.id)) out.push(`${rec.id}: ${rec.status} — ${(rec.message ?? '').split('\n')[0]}`);
  }
  for (const e of checksOf(l.phase as RunbookPhase)) {
    if (e.kind === 'advisory' || skip.has(e.id)) continue;
    const rec = l.records.get(e.id);
    // An optional check runs only when asked (the restore drill); once it ran, its verdict counts like any other.
    if (e.kind === 'optional' && (!rec || rec.status === 'skipped')) continue;
    const p = recordProblem(rec, e.id, settings);
    if (p) out.push(p.why);
  }
  return out;
}

/** The decision, from the evidence as read, the gate's own view of the target, its settings and the time. */
export function decide(loaded: LoadedEvidence, identity: Identity, settings: DecideSettings, now: Date): GateResult {
  const running = identity.build;
  const runningKnown = running !== 'unknown';
  const problems: string[] = [];
  if (!runningKnown) problems.push(`the running build is unknown: ${identity.buildProblem ?? 'no source named it'}`);
  const judged = { deployBranch: settings.deployBranch, replicaMaxLagBytes: settings.replicaMaxLagBytes };

  const refuse = (l: Loaded, why: string | undefined): Loaded =>
    why ? { phase: l.phase, ok: false, problems: [why] } : l;
  const read = (phase: GatePhase, drifts: boolean) => usable(loaded.files[phase], identity, settings, now, { drifts });
  let preflight = read('preflight', true);
  let smoke = read('smoke', true);
  // Deploy and rollback evidence record an event, not a state that drifts: they only have to name the running build.
  const deploy = read('deploy', false);
  const rollback = read('rollback', false);

  if (runningKnown && preflight.ok) {
    // Preflight precedes a deploy: it vouches for the build it was about to deploy, or for the one then running.
    const e = preflight.evidence;
    const named = sameBuild(e.deploySha, running) || sameBuild(e.identity?.build ?? '', running);
    preflight = refuse(
      preflight,
      named
        ? undefined
        : `preflight checked build ${e.deploySha} (running then: ${e.identity?.build}), but ${running} is running: rerun \`npm run preflight\``,
    );
  }
  // The last deploy or rollback, by start time: it must have finished and put the running build there (below).
  const events = [deploy, rollback].filter((l) => !(!l.ok && l.absent));
  const startedAt = (l: Loaded) => {
    if (l.ok) return Date.parse(l.evidence.startedAt);
    const raw = loaded.files[l.phase].raw as { startedAt?: unknown } | undefined;
    return (typeof raw?.startedAt === 'string' && Date.parse(raw.startedAt)) || Infinity;
  };
  const last = events.sort((a, b) => startedAt(b) - startedAt(a))[0];
  if (smoke.ok && last?.ok) {
    // A smoke that started before the last deploy or rollback finished measured containers that no longer run.
    const changed = last.evidence.finishedAt;
    smoke = refuse(
      smoke,
      Date.parse(smoke.evidence.startedAt) < Date.parse(changed)
        ? `smoke started ${smoke.evidence.startedAt}, before the last ${last.phase} finished (${changed}): it measured what ran before it; rerun \`npm run smoke\``
        : undefined,
    );
  }
  if (runningKnown && smoke.ok) {
    const measured = smoke.evidence.identity?.build ?? '';
    // An API that reports its build (the staging one does, in /health) must report the one Docker runs.
    const answered = (smoke.records.get('smoke.1')?.measured as { build?: unknown } | undefined)?.build;
    // Behind a balancer, one replica of another build hides among good ones: each replica smoke asked on its own
    // port must name the running build too. The check is advisory only where it could not ask (a remote smoke).
    const otherReplicas = replicasOfOtherBuilds(smoke.records.get('smoke.replicas'), running);
    smoke = refuse(
      smoke,
      !sameBuild(measured, running)
        ? `smoke measured build ${measured}, but ${running} is running now: rerun \`npm run smoke\``
        : namesAnotherBuild(answered, running)
          ? `the API answering /health says it is build ${answered}, but the running build is ${running}`
          : otherReplicas.length
            ? `${otherReplicas.join('; ')}, but the running build is ${running}: redeploy or roll back`
            : undefined,
    );
  }

  const said = (c: GoCondition, m: unknown) => {
    try {
      return (
        (typeof m === 'object' && m !== null && !Array.isArray(m) && c.present(m as Measured)) ||
        measuredInWords(c.check, m)
      );
    } catch {
      return measuredInWords(c.check, m);
    }
  };
  const results = conditions.map((c): ConditionResult => {
    const e = entry(c.check);
    const l = e.phase === 'preflight' ? preflight : smoke;
    const base = {
      n: c.n,
      title: c.title,
      threshold: e.threshold ? formatThreshold(e.threshold) : e.expected,
      action: c.action,
      evidenceFile: loaded.files[l.phase].path,
    };
    const hold = (
      outcome: Outcome,
      reason: string,
      measured = 'nothing measured',
      ageMin?: number,
    ): ConditionResult => ({ ...base, verdict: 'HOLD', outcome, measured, reason, evidenceAgeMin: ageMin });
    if (!l.ok) return hold('could-not-run', l.problems.join('; '));
    const rec = l.records.get(c.check);
    const p = recordProblem(rec, c.check, { ...judged, evidenceAgeH: l.ageMin / 60 });
    if (p) return hold(p.outcome, p.why, said(c, rec?.measured), l.ageMin);
    return {
      ...base,
      verdict: 'GO',
      outcome: 'pass',
      measured: said(c, rec!.measured),
      reason: 'met',
      evidenceAgeMin: l.ageMin,
    };
  });

  const gateIds = new Set(conditions.map((c) => c.check));
  for (const l of [preflight, smoke]) {
    if (!l.ok) problems.push(...l.problems);
    else problems.push(...phaseProblems(l, { ...judged, evidenceAgeH: l.ageMin / 60 }, gateIds));
  }

  if (!last) problems.push(`no deploy or rollback evidence for the running build ${running}: run \`npm run deploy\``);
  else if (!last.ok) problems.push(...last.problems);
  else {
    problems.push(...phaseProblems(last, judged));
    const vouched = last.evidence.deploySha;
    if (runningKnown && !sameBuild(vouched, running)) {
      problems.push(
        `the last ${last.phase} (${last.evidence.startedAt}) put build ${vouched} in place, but ${running} is running`,
      );
    }
  }

  const advisories: AdvisoryResult[] = [];
  for (const l of [preflight, last?.phase === 'deploy' ? deploy : undefined, smoke]) {
    if (!l?.ok) continue;
    for (const rec of l.records.values()) {
      if (lookup(rec.id)?.kind !== 'advisory') continue;
      const why = rec.status === 'pass' ? judge(rec.id, rec.measured, judged) : undefined;
      advisories.push({
        title: rec.title,
        status: why ? 'fail' : rec.status,
        measured: measuredInWords(rec.id, rec.measured),
        message: why ?? rec.message ?? '',
      });
    }
  }

  const { launchStop } = loaded;
  if (launchStop) problems.unshift(`launch stopped: ${launchStop}`);
  const completeness: ConditionResult = {
    n: 8,
    title: completenessTitle,
    threshold: completenessThreshold,
    action: 'HOLD — page Bolt',
    verdict: problems.length ? 'HOLD' : 'GO',
    outcome: problems.length ? 'fail' : 'pass',
    measured: `${problems.length} problem(s)`,
    reason: problems.join('; ') || 'met',
    evidenceAgeMin: undefined,
    evidenceFile: loaded.evidenceDir,
  };

  const decision: Verdict = results.every((r) => r.verdict === 'GO') && completeness.verdict === 'GO' ? 'GO' : 'HOLD';
  return {
    decision,
    target: settings.target,
    deploySha: running,
    decidedAt: now.toISOString(),
    conditions: results,
    completeness,
    advisories,
    evidenceFiles: Object.values(loaded.files).map((f) => f.path),
    launchStop,
    validUntil: validUntil(settings.maxAgeMin, [preflight, smoke]),
    identity,
  };
}

/** The first moment the decision stops holding: an evidence window closing, or the backup turning too old. */
function validUntil(maxAgeMin: number, loaded: Loaded[]): string | undefined {
  const ends: number[] = [];
  for (const l of loaded) {
    if (!l.ok) continue;
    const finished = Date.parse(l.evidence.finishedAt);
    ends.push(finished + maxAgeMin * 60_000);
    const age = (l.records.get('preflight.1.5')?.measured as { age_h?: unknown } | undefined)?.age_h;
    const limit = entry('preflight.1.5').threshold?.value;
    if (typeof age === 'number' && typeof limit === 'number') ends.push(finished + (limit - age) * 3_600_000);
  }
  return ends.length ? new Date(Math.min(...ends)).toISOString() : undefined;
}

/** The gate's answer when it cannot evaluate at all: HOLD on every condition, with the reason. */
export function holdEverything(
  reason: string,
  base: { evidenceDir: string; target: string; deploySha: string; now?: Date },
): GateResult {
  const hold = (c: { n: number; title: string; threshold: string; action: string }): ConditionResult => ({
    ...c,
    verdict: 'HOLD',
    outcome: 'could-not-run',
    measured: 'nothing measured',
    reason,
    evidenceAgeMin: undefined,
    evidenceFile: base.evidenceDir,
  });
  return {
    decision: 'HOLD',
    target: base.target,
    deploySha: base.deploySha,
    decidedAt: (base.now ?? new Date()).toISOString(),
    conditions: conditions.map((c) => {
      const e = entry(c.check);
      return hold({
        n: c.n,
        title: c.title,
        threshold: e.threshold ? formatThreshold(e.threshold) : e.expected,
        action: c.action,
      });
    }),
    completeness: hold({
      n: 8,
      title: completenessTitle,
      threshold: completenessThreshold,
      action: 'HOLD — page Bolt',
    }),
    advisories: [],
    evidenceFiles: [],
  };
}
