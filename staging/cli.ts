// npm run staging:build | staging:up | staging:down
import { commandLine, exitCode } from '../lib/harness/cli.js';
import { stagingBackup, stagingBuild, stagingDown, stagingUp } from './project.js';

const log = (m: string) => process.stderr.write(`staging: ${m}\n`);
const commands: Record<string, () => Promise<unknown>> = {
  build: () => stagingBuild(log),
  up: () => stagingUp(log),
  down: () => stagingDown(log),
  backup: () => stagingBackup(log),
};

const { command } = commandLine({
  usage: 'tsx staging/cli.ts',
  summary: 'The local copy of the stack the runbook deploys (npm run staging:build, staging:up, staging:down).',
  commands: {
    build: 'build the base image (cached) and the app images, lay out the project directory',
    up: 'build what is missing and bring the whole stack up, healthy',
    down: 'stop and remove the stack and its volumes',
    backup: "take a pg_dump backup into the project's backups/ (what RUNBOOK_BACKUP_COMMAND runs on staging)",
  },
});
commands[command!]!().then(
  () => process.exit(exitCode.pass),
  (err: Error) => {
    log(err.message);
    process.exit(exitCode.hold);
  },
);
