// The one place JUnit XML is made: a phase's checks, the gate's conditions and watch's triggers all become a
// suite of cases here. Failure and error text goes in the element's body too, where CI tools show it.
import { createRequire } from 'node:module';
import type { Builder } from 'junit-report-builder';
import type { CheckStatus, PhaseEvidence } from './evidence.js';

const junit = createRequire(import.meta.url)('junit-report-builder') as Builder;

export interface JunitCase {
  className: string;
  name: string;
  timeS?: number;
  stdout?: string;
  /** failure: checked and failed; error: could not check; skipped: not run or skipped with a reason. */
  outcome?: { kind: 'failure' | 'error'; message: string; type: string; body: string } | { kind: 'skipped' };
}

export interface JunitSuite {
  name: string;
  timestamp: string;
  timeS?: number;
  properties: Array<[string, string]>;
  cases: JunitCase[];
}

export function junitXml(s: JunitSuite): string {
  const b = junit.newBuilder();
  const suite = b.testSuite().name(s.name).timestamp(s.timestamp);
  if (s.timeS !== undefined) suite.time(s.timeS);
  for (const [k, v] of s.properties) suite.property(k, v);
  for (const c of s.cases) {
    const tc = suite.testCase().className(c.className).name(c.name);
    if (c.timeS !== undefined) tc.time(c.timeS);
    if (c.stdout) tc.standardOutput(c.stdout);
    const o = c.outcome;
    if (o?.kind === 'failure') tc.failure(o.message, o.type).stacktrace(o.body);
    else if (o?.kind === 'error') tc.error(o.message, o.type, o.body);
    else if (o?.kind === 'skipped') tc.skipped();
  }
  return schemaClean(b.build());
}

/** junit-report-builder adds a `skipped` attribute to <testsuites> that the Jenkins xUnit schema rejects. */
function schemaClean(xml: string): string {
  return xml.replace(/(<testsuites\b[^>]*?)\s+skipped="\d+"/, '$1');
}

export function formatMeasured(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** A one-line summary for the `message` attribute; the element's body keeps the whole text. */
const oneLine = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' · ')
    .slice(0, 300);

const outcomeOf = (status: CheckStatus, text: string): JunitCase['outcome'] =>
  status === 'fail'
    ? { kind: 'failure', message: oneLine(text), type: 'failure', body: text }
    : status === 'error'
      ? { kind: 'error', message: oneLine(text), type: 'could-not-check', body: text }
      : status === 'skipped' || status === 'not-run'
        ? { kind: 'skipped' }
        : undefined;

/** JUnit for one phase. Measured values go to system-out: the published schema allows no testcase properties. */
export function phaseJunit(e: PhaseEvidence): string {
  const timeS = (Date.parse(e.finishedAt) - Date.parse(e.startedAt)) / 1000;
  return junitXml({
    name: e.phase,
    timestamp: e.startedAt,
    timeS: Number.isFinite(timeS) && timeS >= 0 ? timeS : undefined,
    properties: [
      ['target', e.target],
      ['DEPLOY_SHA', e.deploySha],
      ['outcome', e.outcome],
    ],
    cases: e.checks.map((c) => ({
      className: e.phase,
      name: c.title,
      timeS: (c.durationMs ?? 0) / 1000,
      stdout: [
        `id: ${c.id}`,
        c.threshold ? `threshold: ${c.threshold}` : '',
        c.measured !== undefined ? `measured: ${formatMeasured(c.measured)}` : '',
        c.action ? `action: ${c.action}` : '',
        c.advisory ? 'advisory: does not block GO' : '',
      ]
        .filter(Boolean)
        .join('\n'),
      outcome: outcomeOf(c.status, `${c.title}\n${c.message ?? ''}${c.action ? `\nhint: ${c.action}` : ''}`),
    })),
  });
}
