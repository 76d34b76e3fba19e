// npm run staging:build | staging:up | staging:down
import { commandLine, exitCode } from '../lib/harness/cli.js';
import { stagingBackup, stagingBuild, stagingDown, stagingUp } from './project.js';

const log = (m: string) => process.stderr.write(`staging: ${m}\n`);
const swarm = () => import('./swarm.js');
const commands: Record<string, (onSwarm: boolean, nodes: number) => Promise<unknown>> = {
  build: () => stagingBuild(log),
  up: async (onSwarm, nodes) => (onSwarm ? (await swarm()).stagingUpSwarm(log, nodes) : stagingUp(log)),
  down: async (onSwarm) => (onSwarm ? (await swarm()).stagingDownSwarm(log) : stagingDown(log)),
  backup: () => stagingBackup(log),
};

const { command, flags, options } = commandLine({
  usage: 'tsx staging/cli.ts',
  summary: 'The local copy of the stack the runbook deploys (npm run staging:build, staging:up, staging:down).',
  commands: {
    build: 'build the base image (cached) and the app images, lay out the project directory',
    up: 'build what is missing and bring the whole stack up, healthy',
    down: 'stop and remove the stack and its volumes',
    backup: "take a pg_dump backup into the project's backups/ (what RUNBOOK_BACKUP_COMMAND runs on staging)",
  },
  options: {
    nodes:
      'up --swarm: how many nodes (default 1). With N ≥ 2 the project starts N-1 worker engines on 127.0.0.2… and a registry on loopback; the API runs two replicas on the workers',
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
const nodes = options.nodes === undefined ? 1 : Number(options.nodes);
if (options.nodes !== undefined && (!(command === 'up' && flags.swarm) || !/^\d+$/.test(options.nodes) || nodes < 1)) {
  log(`--nodes takes a whole number ≥ 1, with up --swarm only (got ${JSON.stringify(options.nodes)} with ${command})`);
  process.exit(exitCode.couldNotStart);
}
commands[command!]!(!!flags.swarm, nodes).then(
  () => process.exit(exitCode.pass),
  (err: Error) => {
    log(err.message);
    process.exit(exitCode.hold);
  },
);
