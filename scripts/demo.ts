// npm run demo: build what staging needs, bring it up, run the whole launch against it, and say where the
// artefacts are and what the decision was.
import { commandLine } from '../lib/harness/cli.js';
import { ensurePrerequisites } from '../staging/prerequisites.js';
import { stagingUp } from '../staging/project.js';
import { launch, launchExitCode } from './launch.js';

const log = (m: string) => process.stderr.write(`demo: ${m}\n`);

commandLine({
  usage: 'npm run demo --',
  summary:
    'Builds the local staging stack (its base image is cached), brings it up, runs the whole launch against it and\nsays where the artefacts are. As root on Debian it first installs what is missing (Docker, Compose v1,\ndebootstrap) and starts dockerd; elsewhere it names the one command to run.',
});

try {
  await ensurePrerequisites(log);
  await stagingUp(log);
  const r = await launch();
  process.stdout.write(
    [
      '',
      `Decision: ${r.decision}${r.stopped ? ` — ${r.stopped}` : ''}`,
      `  ${r.reportsDir}/gonogo.html        (open in a browser; self-contained)`,
      `  ${r.reportsDir}/gonogo.junit.xml   (the Go/No-Go artefact)`,
      `  ${r.reportsDir}/gonogo.md          (status post for #us-launch-ops)`,
      `  ${r.reportsDir}/<phase>.junit.xml, evidence/, logs/; npm run report serves the Vitest HTML reports`,
      '',
    ].join('\n'),
  );
  process.exit(launchExitCode(r));
} catch (err) {
  log(`could not run: ${(err as Error).message}`);
  process.exit(2);
}
