// End-to-end tests run against the real staging stack: bring it up once (building what is missing) and
// reuse it. Tests that break a component restore it.
import { stagingUp } from '../staging/project';

export default async function setup() {
  await stagingUp((m) => process.stderr.write(`staging: ${m}\n`));
}
