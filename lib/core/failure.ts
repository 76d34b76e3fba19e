// The one shape every failure is told in, Hurl's: what was checked, what was expected, what was found and what to
// do. A check's failure, a configuration error, a refusal and the gate's JUnit cases all print through it, so the
// console, JUnit, evidence and Rex's page read alike.

export interface Failure {
  /** What was checked or attempted: "Smoke 9 — search latency", "RUNBOOK_DB_URL". */
  title: string;
  expected?: string;
  found?: string;
  /** What to do now. */
  action: string;
}

export function failureText(f: Failure): string {
  const lines = [f.title];
  if (f.expected !== undefined) lines.push(`  expected: ${f.expected}`);
  if (f.found !== undefined) lines.push(`  found:    ${f.found}`);
  lines.push(`  action:   ${f.action}`);
  return lines.join('\n');
}
