// The Go/No-Go artefacts Rex reads: JUnit (junit-report-builder), one self-contained HTML page, and the
// #us-launch-ops status post as text.
import { join, relative } from 'node:path';
import { writeAtomic } from '../lib/core/atomic.js';
import { evidenceDir } from '../lib/harness/evidence.js';
import { junitXml } from '../lib/harness/junit.js';
import { scrub } from '../lib/core/secret.js';
import { failureText } from '../lib/core/failure.js';
import type { ConditionResult, GateResult } from './decide.js';

const all = (g: GateResult) => [...g.conditions, g.completeness];

const roundedNote = '≈ marks a number rounded for display; every check was judged on the value it measured.';

export function gateJunit(g: GateResult): string {
  const properties: Array<[string, string]> = [
    ['decision', g.decision],
    ['target', g.target],
    ['DEPLOY_SHA', g.deploySha],
    ['time', g.decidedAt],
    ['evidence', g.evidenceFiles.join(' ')],
  ];
  if (g.overrides?.length) properties.push(['overrides', settingsChanged(g)]);
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
      // Hurl's shape, as the phases' failures say it: title, expected, found (with why), action.
      const text = failureText({
        title: caseName(c),
        expected: c.threshold,
        found: `${c.measured}${c.reason === 'met' ? '' : ` — ${c.reason}`}`,
        action: c.action,
      });
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

/** The settings the gate ran with that differ from the runbook's defaults: a loosened one must be seen. */
/** The two API addresses the decision stands on: what users reach, and the container's own port. */
const addresses = (g: GateResult) =>
  g.identity ? `public ${g.identity.apiOrigin}, local ${g.identity.apiLocalOrigin}` : undefined;
const settingsChanged = (g: GateResult) => (g.overrides ?? []).map((o) => `${o.env}=${o.value}`).join(', ');

export const caseName = (c: ConditionResult) =>
  c.n <= 7 ? `Condition ${c.n} — ${c.title}: ${c.threshold}` : `${c.title}: ${c.threshold}`;

const age = (c: ConditionResult) =>
  c.evidenceAgeMin === undefined ? '—' : `${Math.max(0, Math.round(c.evidenceAgeMin))} min`;

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The runbook's zone: the launch is at 09:00 in New York. */
const runbookZone = 'America/New_York';

/** "Sat 28 Nov 07:12 EST (12:12 UTC)": the runbook's zone first, UTC alongside. */
export function runbookTime(iso: string): string {
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) return iso;
  const part = (zone: string, opts: Intl.DateTimeFormatOptions) =>
    new Intl.DateTimeFormat('en-GB', { timeZone: zone, ...opts }).format(d);
  const hm = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } as const;
  const name = new Intl.DateTimeFormat('en-US', { timeZone: runbookZone, timeZoneName: 'short' })
    .formatToParts(d)
    .find((p) => p.type === 'timeZoneName')!.value;
  const day = part(runbookZone, { weekday: 'short', day: 'numeric', month: 'short' }).replace(',', '');
  return `${day} ${part(runbookZone, hm)} ${name} (${part('UTC', hm)} UTC)`;
}

const outcomeWords: Record<ConditionResult['outcome'], string> = {
  pass: 'GO',
  fail: 'HOLD — failed',
  'could-not-run': 'HOLD — could not check',
};

/** "8 of 8 GO", or "HOLD: 2 of 8 — Affiliate redirects (failed), P99 latency (could not check)". */
export function summaryLine(g: GateResult): string {
  const rows = all(g);
  const held = rows.filter((c) => c.verdict !== 'GO');
  if (!held.length && g.decision === 'GO') return `${rows.length} of ${rows.length} GO`;
  const why = held.map(
    (c) =>
      `${c.n <= 7 ? c.title : 'Evidence and other checks'} (${c.outcome === 'fail' ? 'failed' : 'could not check'})`,
  );
  return `HOLD: ${held.length} of ${rows.length} — ${why.join(', ')}`;
}

export function gateHtml(g: GateResult, reportsDir: string): string {
  const production = g.target === 'production';
  const rows = all(g)
    .map(
      (c) => `<tr class="${c.verdict.toLowerCase()} ${c.outcome}" data-condition="${c.n}">
  <td data-label="#">${c.n <= 7 ? c.n : '+'}</td><td data-label="Condition">${esc(c.title)}</td><td data-label="Threshold">${esc(c.threshold)}</td><td data-label="Measured">${esc(c.measured)}</td>
  <td data-label="Verdict" class="verdict">${outcomeWords[c.outcome]}</td><td data-label="Evidence age">${esc(age(c))}</td><td data-label="Action">${c.verdict === 'GO' ? '' : `${esc(c.action)}<br><small>${esc(c.reason)}</small>`}</td></tr>`,
    )
    .join('\n');
  const advisories = g.advisories.length
    ? g.advisories
        .map((a) => {
          const ok = a.status === 'pass';
          return `<li class="${ok ? 'ok' : 'warn'}"><b>${ok ? 'OK' : 'WARNING (advisory)'}</b> ${esc(a.title)} — ${esc(a.status)} ${esc(a.measured)}${a.message ? `<br><small>${esc(a.message.split('\n')[0]!)}</small>` : ''}</li>`;
        })
        .join('\n')
    : '<li>none</li>';
  const link = (p: string) => esc(relative(reportsDir, join(reportsDir, p)));
  const phases = ['preflight', 'deploy', 'smoke']
    .map(
      (p) =>
        `<li>${p}: <a href="${link(`${p}.junit.xml`)}">JUnit</a> · <a href="${link(`evidence/${p}.json`)}">evidence</a> · <a href="${link(`html/${p}/index.html`)}">Vitest report</a> (serve with <code>npm run report</code>)</li>`,
    )
    .join('\n');
  const until = g.validUntil
    ? `<p id="valid-until" data-until="${esc(g.validUntil)}">${g.decision === 'GO' ? 'GO' : 'Evidence'} valid until <b>${esc(runbookTime(g.validUntil))}</b>: after that, rerun preflight and smoke, then the gate.</p>`
    : '<p id="valid-until">No evidence window: nothing to hold on to.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${production ? '' : `[${esc(g.target.toUpperCase())}] `}Go/No-Go — ${g.decision}</title>
<style>
*{box-sizing:border-box}
body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;padding:16px;color:#111;max-width:1280px;overflow-wrap:anywhere}
#env{background:repeating-linear-gradient(45deg,#ffd54f,#ffd54f 12px,#222 12px,#222 24px);padding:6px}
#env span{display:block;background:#fff8e1;color:#222;font-weight:700;text-align:center;padding:4px}
body.not-production::after{content:attr(data-target);position:fixed;top:40%;left:0;width:100%;overflow:hidden;white-space:nowrap;text-align:center;font-size:120px;font-weight:800;color:rgba(0,0,0,.06);transform:rotate(-20deg);pointer-events:none}
#banner{font-size:40px;font-weight:700;padding:14px 20px;border-radius:8px;color:#fff;margin-top:12px}
#banner.go{background:#137333}#banner.hold{background:#b3261e}#banner.expired{background:#5f6368}
#headline{font-size:18px;margin:8px 0}
#summary{font-size:17px;font-weight:600}
table{border-collapse:collapse;margin-top:16px;width:100%;table-layout:fixed}
td,th{border:1px solid #ccc;padding:6px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th:nth-child(1){width:3em}th:nth-child(5){width:9em}th:nth-child(6){width:7.5em}
tr.go .verdict{color:#137333;font-weight:700}
tr.fail .verdict{color:#b3261e;font-weight:700}
tr.could-not-run .verdict{color:#8a3ffc;font-weight:700;font-style:italic}
li.warn{color:#8a5a00}small{color:#555}code{overflow-wrap:anywhere}
#overrides{background:#fff8e1;border-left:4px solid #f9a825;padding:6px 10px}
@media (max-width:760px){
  table,thead,tbody,tr,td{display:block;width:auto}thead{display:none}
  tr{border:1px solid #ccc;margin-bottom:10px}td{border:none;border-top:1px solid #eee}
  td::before{content:attr(data-label);display:block;font-size:12px;color:#555}
  #banner{font-size:30px}
}
@media print{
  @page{size:A4 portrait;margin:12mm}
  body{font-size:10px;padding:0;max-width:none}body.not-production::after{font-size:80px}
  #banner{font-size:24px;padding:6px 10px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
  #env,#overrides{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  tr{break-inside:avoid}a{color:inherit;text-decoration:none}
}
</style></head><body class="${production ? 'production' : 'not-production'}" data-target="${esc(g.target.toUpperCase())}">
${production ? '' : `<div id="env"><span>${esc(g.target.toUpperCase())} — not production</span></div>`}
<div id="banner" class="${g.decision.toLowerCase()}">${g.decision}</div>
<p id="headline">${g.decision} for build <b>${esc(g.deploySha)}</b> on <b>${esc(g.target)}</b>, decided ${esc(runbookTime(g.decidedAt))}</p>
<p id="summary">${esc(summaryLine(g))}</p>
${until}
${g.launchStop ? `<p><b>Launch stopped: ${esc(g.launchStop)}</b></p>` : ''}
${addresses(g) ? `<p id="addresses">API addresses: ${esc(addresses(g)!)}</p>` : ''}
${g.overrides?.length ? `<p id="overrides">Decided with settings that differ from the runbook's defaults: ${g.overrides.map((o) => `<code>${esc(`${o.env}=${o.value}`)}</code>`).join(', ')}</p>` : ''}
<table><thead><tr><th>#</th><th>Condition</th><th>Threshold</th><th>Measured</th><th>Verdict</th><th>Evidence age</th><th>Action</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Advisory (does not block GO)</h2><ul id="advisories">
${advisories}
</ul>
<p><small>${roundedNote}</small></p>
<h2>Phase reports</h2><ul>
${phases}
</ul>
<script>
// Opened after the window closed, the page says so: a GO read late is not a GO.
(function () {
  var p = document.getElementById('valid-until');
  var until = p && Date.parse(p.getAttribute('data-until'));
  if (until && Date.now() > until) {
    var b = document.getElementById('banner');
    b.className = 'expired';
    b.textContent = b.textContent + ' — EXPIRED: rerun preflight, smoke and the gate';
  }
})();
</script>
</body></html>
`;
}

export function gateMarkdown(g: GateResult): string {
  const lines = [
    g.decision === 'GO'
      ? `✅ GO — BuyWhere deploy ${g.deploySha} (${g.target})`
      : `⛔ HOLD — BuyWhere deploy ${g.deploySha} (${g.target})`,
    summaryLine(g),
    `Decided: ${runbookTime(g.decidedAt)}${g.validUntil ? ` · valid until ${runbookTime(g.validUntil)}` : ''}`,
    ...(addresses(g) ? [`API addresses: ${addresses(g)}`] : []),
    ...(g.overrides?.length ? [`Settings that differ from the runbook's defaults: ${settingsChanged(g)}`] : []),
    '',
    ...all(g).map(
      (c) =>
        `- ${c.verdict === 'GO' ? '✅' : '⛔'} ${c.n <= 7 ? `${c.n}. ` : ''}${c.title} (${c.threshold}): ${c.measured}${c.verdict === 'GO' ? '' : ` — ${outcomeWords[c.outcome]}: ${c.action}. ${c.reason.split('\n')[0]}`}`,
    ),
  ];
  const warnings = g.advisories.filter((a) => a.status !== 'pass');
  if (warnings.length)
    lines.push('', 'Advisory:', ...warnings.map((a) => `- ⚠️ ${a.title}: ${a.status} ${a.measured}`));
  lines.push('', roundedNote, 'Lead: Bolt');
  return lines.join('\n') + '\n';
}

export function writeGateArtefacts(g: GateResult, reportsDir: string, secrets: string[]) {
  // The record first: a run killed part-way never leaves a page without the record a later phase withdraws by.
  writeAtomic(join(evidenceDir(reportsDir), 'gate.json'), scrub(JSON.stringify(g, null, 2), secrets));
  writeAtomic(join(reportsDir, 'gonogo.junit.xml'), scrub(gateJunit(g), secrets));
  writeAtomic(join(reportsDir, 'gonogo.html'), scrub(gateHtml(g, reportsDir), secrets));
  writeAtomic(join(reportsDir, 'gonogo.md'), scrub(gateMarkdown(g), secrets));
}
