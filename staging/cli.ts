// npm run staging:build | staging:up | staging:down
import { commandLine, exitCode } from '../lib/harness/cli.js';
import { stagingBackup, stagingBuild, stagingDown, stagingUp } from './project.js';

const log = (m: string) => process.stderr.write(`staging: ${m}\n`);
const swarm = () => import('./swarm.js');
const commands: Record<string, (onSwarm: boolean) => Promise<unknown>> = {
  build: () => stagingBuild(log),
  up: async (onSwarm) => (onSwarm ? (await swarm()).stagingUpSwarm(log) : stagingUp(log)),
  down: async (onSwarm) => (onSwarm ? (await swarm()).stagingDownSwarm(log) : stagingDown(log)),
  backup: () => stagingBackup(log),
};

const { command, flags } = commandLine({
  usage: 'tsx staging/cli.ts',
  summary: 'The local copy of the stack the runbook deploys (npm run staging:build, staging:up, staging:down).',
  commands: {
    build: 'build the base image (cached) and the app images, lay out the project directory',
    up: 'build what is missing and bring the whole stack up, healthy',
    down: 'stop and remove the stack and its volumes',
    backup: "take a pg_dump backup into the project's backups/ (what RUNBOOK_BACKUP_COMMAND runs on staging)",
  },
  flags: {
    swarm:
      'up: stop the Compose stack (volumes kept) and deploy it on a single-node Docker Swarm (staging/swarm.yml); ' +
      'down: remove that stack and leave the swarm. RUNBOOK_ORCHESTRATOR=swarm makes the runbook drive it.',
  },
});
if (flags.swarm && command !== 'up' && command !== 'down') {
  log(`--swarm applies to up and down only, not ${command}`);
  process.exit(exitCode.couldNotStart);
}
commands[command!]!(!!flags.swarm).then(
  () => process.exit(exitCode.pass),
  (err: Error) => {
    log(err.message);
    process.exit(exitCode.hold);
  },
);
