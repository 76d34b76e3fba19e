// Runbook step 2: "Check the build log for warnings about missing packages or failed test steps." A build can exit
// 0 with both: a `|| true` after a test run, a package step that only warns. These are the forms apt, pip, npm and
// Docker print them in; the lines are quoted as they are, prefixes (compose's, BuildKit's step and time) and all.

const patterns: Array<[kind: string, re: RegExp]> = [
  ['apt: missing package', /\bE: Unable to locate package\b|\bE: Package '[^']+' has no installation candidate\b/],
  ['apt: missing package', /\bE: Couldn't find any package by (glob|regex)\b/],
  [
    'pip: missing package',
    /\bCould not find a version that satisfies the requirement\b|\bNo matching distribution found for\b/,
  ],
  ['python: missing module', /\bModuleNotFoundError: No module named\b/],
  ['npm: missing package', /\bnpm (ERR!|error) (code E404|404 Not Found)\b/],
  ['node: missing module', /\bError: Cannot find module '/],
  ['npm: failed test step', /\bnpm (ERR!|error) (Test failed|code ELIFECYCLE)\b/],
  ['pytest: failed test step', /^(.*\s)?FAILED \S+::\S+|=+ .*\b\d+ failed\b.* =+/],
  ['test: failed test step', /\b(Tests?|Test Files)\s+\d+ failed\b/],
  ['docker: warning', /(^|\s)\[?WARN(ING)?\]?:? .*\b(missing|not found|failed)\b/i],
];

export interface BuildLogFinding {
  kind: string;
  line: string;
}

/** Every line of a build log that reports a missing package or a failed test step, in order, each once. */
export function buildLogFindings(text: string): BuildLogFinding[] {
  const out: BuildLogFinding[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trimEnd();
    const hit = patterns.find(([, re]) => re.test(line));
    if (hit) out.push({ kind: hit[0], line: line.length > 300 ? `${line.slice(0, 300)}…` : line });
  }
  return out;
}
