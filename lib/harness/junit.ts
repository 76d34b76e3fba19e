// The one place JUnit XML is made: a phase's checks, the gate's conditions and watch's triggers all become a
// suite of cases here. Failure and error text goes in the element's body too, where CI tools show it.
import { createRequire } from 'node:module';
import type { Builder } from 'junit-report-builder';
import { lookup, titleOf, type CheckId } from '../../runbook/catalogue.js';
import type { CheckStatus, PhaseEvidence } from './evidence.js';

// Loaded when the first XML is made, or earlier by loadJunit, not as a phase starts.
let builder: Builder | undefined;
const junit = () => (builder ??= createRequire(import.meta.url)('junit-report-builder') as Builder);

/**
 * Loads the XML builder now (a few tens of milliseconds of one thread): the reporter does it while the checks run
 * and its thread is idle, not when the phase ends and its evidence and JUnit are awaited.
 */
export function loadJunit(): void {
  junit();
}

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
  /** The spec the suite's cases come from, relative to the repository. */
  file?: string;
  timestamp: string;
  timeS?: number;
  properties: Array<[string, string]>;
  cases: JunitCase[];
}

export function junitXml(suites: JunitSuite | JunitSuite[]): string {
  const all = Array.isArray(suites) ? suites : [suites];
  const b = junit().newBuilder();
  for (const s of all) addSuite(b, s);
  const total = all.reduce((sum, s) => sum + (s.timeS ?? 0), 0);
  // The builder has no `file` for suites, which the schema allows on <testsuite>: added in suite order.
  let i = 0;
  return schemaClean(b.build())
    .replace(/<testsuites\b/, `<testsuites time="${round(total)}"`)
    .replace(/<testsuite\b/g, (tag) => {
      const file = all[i++]?.file;
      return file ? `${tag} file="${attr(file)}"` : tag;
    });
}

const attr = (v: string) => v.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

const round = (s: number) => Math.round(s * 1000) / 1000;

function addSuite(b: Builder, s: JunitSuite) {
  const suite = b.testSuite().name(s.name).timestamp(s.timestamp);
  if (s.timeS !== undefined) suite.time(round(s.timeS));
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

/**
 * JUnit for one phase: a suite per spec file. Case names are the runbook's number and title, the same on every
 * run, so CI keeps one history per check; what this run put in a title (a path, a tag, a configured number) goes
 * to system-out with the measured values. The published schema allows no testcase properties.
 */
export function phaseJunit(e: PhaseEvidence): string {
  const timeS = (Date.parse(e.finishedAt) - Date.parse(e.startedAt)) / 1000;
  const files = [...new Set(e.checks.map((c) => c.file))];
  const properties: Array<[string, string]> = [
    ['target', e.target],
    ['DEPLOY_SHA', e.deploySha],
    ['outcome', e.outcome],
  ];
  return junitXml(
    files.map((file) => {
      const checks = e.checks.filter((c) => c.file === file);
      return {
        name: file ? `${e.phase}: ${file}` : e.phase,
        file,
        timestamp: e.startedAt,
        timeS:
          files.length === 1
            ? Number.isFinite(timeS) && timeS >= 0
              ? timeS
              : undefined
            : checks.reduce((sum, c) => sum + (c.durationMs ?? 0), 0) / 1000,
        properties,
        cases: checks.map((c) => {
          const stable = lookup(c.id) ? titleOf(c.id as CheckId) : c.title;
          return {
            className: e.phase,
            name: stable,
            timeS: (c.durationMs ?? 0) / 1000,
            stdout: [
              `id: ${c.id}`,
              stable !== c.title ? `as run: ${c.title}` : '',
              c.threshold ? `threshold: ${c.threshold}` : '',
              c.measured !== undefined ? `measured: ${formatMeasured(c.measured)}` : '',
              c.action ? `action: ${c.action}` : '',
              c.advisory ? 'advisory: does not block GO' : '',
              // A skipped testcase has no text of its own in JUnit: why it did not run goes here.
              (c.status === 'skipped' || c.status === 'not-run') && c.message ? `reason: ${c.message}` : '',
            ]
              .filter(Boolean)
              .join('\n'),
            // Hurl's shape, as the console says it: title, expected, found, action; the action once.
            outcome: outcomeOf(
              c.status,
              `${c.title}\n${c.message ?? ''}${c.action && !(c.message ?? '').includes(`action:   ${c.action}`) ? `\n  action:   ${c.action}` : ''}`,
            ),
          };
        }),
      };
    }),
  );
}
