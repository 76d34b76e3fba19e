// The Go/No-Go artefacts Rex reads: JUnit (junit-report-builder), one self-contained HTML page, and the
// #us-launch-ops status post as text.
import { join, relative } from 'node:path';
import { writeAtomic } from '../lib/core/atomic.js';
import { junitXml } from '../lib/harness/junit.js';
import { scrub } from '../lib/core/secret.js';
import type { ConditionResult, GateResult } from './gate.js';

const all = (g: GateResult) => [...g.conditions, g.completeness];

export function gateJunit(g: GateResult): string {
  const properties: Array<[string, string]> = [
    ['decision', g.decision],
    ['target', g.target],
    ['DEPLOY_SHA', g.deploySha],
    ['time', g.decidedAt],
    ['evidence', g.evidenceFiles.join(' ')],
  ];
  for (const c of all(g)) {
    properties.push([`condition.${c.n}.measured`, c.measured], [`condition.${c.n}.verdict`, c.verdict]);
  }
  g.advisories.forEach((a, i) => properties.push([`advisory.${i + 1}`, `${a.title}: ${a.status} ${a.measured}`]));
  return junitXml({
    name: 'Go/No-Go',
    timestamp: g.decidedAt,
    timeS: 0,
    properties,
    cases: all(g).map((c) => {
      const text = `${caseName(c)}\nexpected: ${c.threshold}\nactual: ${c.measured}\nreason: ${c.reason}\naction: ${c.action}`;
      return {
        className: 'Go/No-Go',
        name: caseName(c),
        timeS: 0,
        stdout: `threshold: ${c.threshold}\nmeasured: ${c.measured}\nevidence age: ${age(c)}`,
        outcome:
          c.outcome === 'fail'
            ? { kind: 'failure', message: c.action, type: 'failure', body: text }
            : c.outcome === 'could-not-run'
              ? { kind: 'error', message: c.action, type: 'could-not-check', body: text }
              : undefined,
      };
    }),
  });
}

export const caseName = (c: ConditionResult) =>
  c.n <= 7 ? `Condition ${c.n} — ${c.title}: ${c.threshold}` : `${c.title}: ${c.threshold}`;

const age = (c: ConditionResult) =>
  c.evidenceAgeMin === undefined ? '—' : `${Math.max(0, Math.round(c.evidenceAgeMin))} min`;

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export function gateHtml(g: GateResult, reportsDir: string): string {
  const rows = all(g)
    .map(
      (c) => `<tr class="${c.verdict.toLowerCase()}" data-condition="${c.n}">
  <td>${c.n <= 7 ? c.n : '+'}</td><td>${esc(c.title)}</td><td>${esc(c.threshold)}</td><td>${esc(c.measured)}</td>
  <td class="verdict">${c.verdict}</td><td>${esc(age(c))}</td><td>${c.verdict === 'GO' ? '' : `${esc(c.action)}<br><small>${esc(c.reason)}</small>`}</td></tr>`,
    )
    .join('\n');
  const advisories = g.advisories.length
    ? g.advisories
        .map(
          (a) =>
            `<li class="${a.status === 'pass' ? 'ok' : 'warn'}">${esc(a.title)} — ${esc(a.status)} ${esc(a.measured)}${a.message ? `<br><small>${esc(a.message.split('\n')[0]!)}</small>` : ''}</li>`,
        )
        .join('\n')
    : '<li>none</li>';
  const link = (p: string) => esc(relative(reportsDir, join(reportsDir, p)));
  const phases = ['preflight', 'deploy', 'smoke']
    .map(
      (p) =>
        `<li>${p}: <a href="${link(`${p}.junit.xml`)}">JUnit</a> · <a href="${link(`evidence/${p}.json`)}">evidence</a> · <a href="${link(`html/${p}/index.html`)}">Vitest report</a> (serve with <code>npm run report</code>)</li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Go/No-Go — ${g.decision}</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:24px;color:#111}
#banner{font-size:42px;font-weight:700;padding:18px 24px;border-radius:8px;color:#fff}
#banner.go{background:#137333}#banner.hold{background:#b3261e}
table{border-collapse:collapse;margin-top:16px;width:100%}td,th{border:1px solid #ccc;padding:6px 8px;text-align:left;vertical-align:top}
tr.go .verdict{color:#137333;font-weight:700}tr.hold .verdict{color:#b3261e;font-weight:700}
li.warn{color:#8a5a00}small{color:#555}
</style></head><body>
<div id="banner" class="${g.decision.toLowerCase()}">${g.decision}</div>
<p>Target <b>${esc(g.target)}</b> · DEPLOY_SHA <b>${esc(g.deploySha)}</b> · decided ${esc(g.decidedAt)}${g.launchStop ? ` · <b>launch stopped: ${esc(g.launchStop)}</b>` : ''}</p>
<table><thead><tr><th>#</th><th>Condition</th><th>Threshold</th><th>Measured</th><th>Verdict</th><th>Evidence age</th><th>Action</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Advisory (does not block GO)</h2><ul id="advisories">
${advisories}
</ul>
<h2>Phase reports</h2><ul>
${phases}
</ul>
</body></html>
`;
}

export function gateMarkdown(g: GateResult): string {
  const lines = [
    g.decision === 'GO'
      ? `✅ GO — BuyWhere deploy ${g.deploySha} (${g.target})`
      : `⛔ HOLD — BuyWhere deploy ${g.deploySha} (${g.target})`,
    `Decided: ${g.decidedAt}`,
    '',
    ...all(g).map(
      (c) =>
        `- ${c.verdict === 'GO' ? '✅' : '⛔'} ${c.n <= 7 ? `${c.n}. ` : ''}${c.title} (${c.threshold}): ${c.measured}${c.verdict === 'GO' ? '' : ` — ${c.action}. ${c.reason.split('\n')[0]}`}`,
    ),
  ];
  const warnings = g.advisories.filter((a) => a.status !== 'pass');
  if (warnings.length)
    lines.push('', 'Advisory:', ...warnings.map((a) => `- ⚠️ ${a.title}: ${a.status} ${a.measured}`));
  lines.push('', 'Lead: Bolt');
  return lines.join('\n') + '\n';
}

export function writeGateArtefacts(g: GateResult, reportsDir: string, secrets: string[]) {
  writeAtomic(join(reportsDir, 'gonogo.junit.xml'), scrub(gateJunit(g), secrets));
  writeAtomic(join(reportsDir, 'gonogo.html'), scrub(gateHtml(g, reportsDir), secrets));
  writeAtomic(join(reportsDir, 'gonogo.md'), scrub(gateMarkdown(g), secrets));
  writeAtomic(join(reportsDir, 'evidence', 'gate.json'), scrub(JSON.stringify(g, null, 2), secrets));
}
