// npm run staging:build | staging:up | staging:down
import { stagingBackup, stagingBuild, stagingDown, stagingUp } from './project.js';

const log = (m: string) => process.stderr.write(`staging: ${m}\n`);
const commands: Record<string, () => Promise<unknown>> = {
  build: () => stagingBuild(log),
  up: () => stagingUp(log),
  down: () => stagingDown(log),
  backup: () => stagingBackup(log),
};

const command = commands[process.argv[2] ?? ''];
if (!command) {
  process.stderr.write(`usage: tsx staging/cli.ts ${Object.keys(commands).join('|')}\n`);
  process.exit(2);
}
command().then(
  () => process.exit(0),
  (err: Error) => {
    log(err.message);
    process.exit(1);
  },
);
