// Gathers what a deploy or rollback plan is made of (images, rollback state, history, migrations) and, before
// the phase starts, prints the plan, honours a dry run, and holds a production run until it is confirmed.
import { createInterface } from 'node:readline/promises';
import { join } from 'node:path';
import { heads, path as migrationPath, readRevisions } from '../probes/alembic.js';
import type { RunOptions, Target } from './config.js';
import { imageInfo, listImages, registryHolds } from '../probes/docker.js';
import { orchestratorFor } from '../operations/orchestrators.js';
import { Refused } from '../core/errors.js';
import { exitCode } from './cli.js';
import {
  buildOf,
  confirm,
  confirmationFor,
  deployPlan,
  formatPlan,
  rollbackPlan,
  type CurrentRevisions,
  type Plan,
} from '../operations/plan.js';
import { alembicState } from '../probes/postgres.js';
import { dataServices } from './data-services.js';
import {
  chooseRollbackTarget,
  interruptedRollback,
  readHistory,
  readState,
  type HistoryEntry,
  type RollbackState,
  type RollbackTarget,
} from '../operations/rollback-state.js';

/** How long a production run waits for Bolt to type the confirmation. */
const promptMs = 5 * 60_000;

async function running(t: Target) {
  const o = orchestratorFor(t);
  const [apis, mcps] = await Promise.all([o.replicas('api'), o.replicas('mcp')]);
  const [api, mcp] = await Promise.all(
    [apis[0]?.imageId, mcps[0]?.imageId].map((i) => (i ? imageInfo(i) : Promise.resolve(undefined))),
  );
  // A task on another node is known by the reference its spec pins: its image id is what this engine holds for it.
  const ids = await Promise.all(apis.map(async (r) => (await imageInfo(r.imageId))?.id ?? r.imageId));
  return { api, mcp, runningApiIds: new Set(ids) };
}

/** Where the database stands; a read that fails is said, never shown as a database with no migrations. */
const currentRevisions = (t: Target): Promise<CurrentRevisions> =>
  alembicState(dataServices(t).primary).then(
    (s) => s.versions,
    (err: Error) => ({ unreadable: err.message.split('\n')[0]! }),
  );

export async function planDeploy(t: Target, checkout: string | undefined): Promise<Plan> {
  if (!checkout)
    throw new Refused(`${t.projectDir} has no readable git HEAD`, 'check the project checkout (preflight 1.1)');
  const build = checkout;
  const [now, revisions, current] = await Promise.all([
    running(t),
    readRevisions(join(t.projectDir, 'alembic', 'versions')),
    currentRevisions(t),
  ]);
  return deployPlan({
    running: buildOf(now.api, now.mcp),
    build,
    apiImage: t.apiImage,
    mcpImage: t.mcpImage,
    revisions,
    current,
    head: heads(revisions),
  });
}

export type RollbackChoice = Extract<RollbackTarget, { ok: true }> & {
  from: string;
  /** The target's API image as the registry names it (<registry>/buywhere-api@sha256:…), when it was pushed. */
  digest: string | undefined;
  interrupted: HistoryEntry | undefined;
};

/**
 * Through a registry, the nodes pull the target by its digest: a rollback whose target the registry does not hold,
 * or whose registry cannot be asked, is refused before step 1 stops the API, as no node without a copy could start
 * the previous build again.
 */
async function refuseUnpullable(registry: string, image: string, digest: string | undefined) {
  const again = `push it again (docker tag ${image} ${registry}/${image} && docker push ${registry}/${image}), then rerun`;
  if (!digest)
    throw new Refused(
      `Rollback refused before stopping anything: ${image} was never pushed to ${registry}, so the other nodes cannot pull it`,
      again,
    );
  let holds: boolean;
  try {
    holds = await registryHolds(digest);
  } catch (err) {
    throw new Refused(
      `Rollback refused before stopping anything: ${(err as Error).message.split('\n')[0]}; the nodes pull ${digest} from there`,
      `bring the registry back and rerun; or, if every node still holds ${image}, roll back on them by hand`,
    );
  }
  if (!holds)
    throw new Refused(
      `Rollback refused before stopping anything: ${registry} no longer holds ${digest}, so nodes without a copy cannot start it`,
      again,
    );
}

/**
 * Where a rollback goes and what it crosses, decided before anything is stopped: the target must exist and
 * not be what runs, and a downgrade, when asked for, may cross only migrations with a real downgrade.
 */
export async function planRollback(
  t: Target,
  downgradeTo: string | undefined,
): Promise<{ plan: Plan; choice: RollbackChoice }> {
  let state: RollbackState | undefined;
  let stateError: string | undefined;
  try {
    state = readState(t.projectDir);
  } catch (err) {
    stateError = (err as Error).message;
  }
  const [apiImages, mcpImages, now, revisions, current, previousRef] = await Promise.all([
    listImages(t.apiImage),
    listImages(t.mcpImage),
    running(t),
    readRevisions(join(t.projectDir, 'alembic', 'versions')),
    currentRevisions(t),
    orchestratorFor(t).previousImage('api'),
  ]);
  // What runs is what the api container runs. :latest alone proves nothing: an interrupted rollback may
  // already have re-tagged it to the previous build without starting it.
  const existingIds = new Set([...apiImages, ...mcpImages].map((i) => i.id));
  const interrupted = interruptedRollback(readHistory(t.projectDir));
  const chosen = chooseRollbackTarget({
    state,
    stateError,
    interrupted,
    existingIds,
    runningApiIds: now.runningApiIds,
    apiImages,
    mcpImages,
    // Only a sha- tag names one build; a moving tag (:latest) may name another build by now.
    previousSpec: previousRef?.includes(':sha-') ? apiImages.find((i) => i.tags.includes(previousRef)) : undefined,
  });
  if (!chosen.ok) throw new Refused(`Rollback refused before stopping anything: ${chosen.why}`, chosen.action);
  // Through a registry, every node pulls the target by the digest its push recorded: the plan and the posts name it.
  const registryRepo = t.registry ? `${t.registry}/${t.apiImage}@` : undefined;
  // Inspected, not listed: the list filtered by the local repository leaves out the registry's names.
  const digest = registryRepo
    ? (await imageInfo(chosen.api))?.digests.find((d) => d.startsWith(registryRepo))
    : undefined;
  if (t.registry) await refuseUnpullable(t.registry, `${t.apiImage}:sha-${chosen.sha}`, digest);
  const runningTag = now.api?.tags.find((x) => x.includes(':sha-'));
  const from =
    interrupted?.target && chosen.api === interrupted.target.api
      ? interrupted.target.from
      : (runningTag ?? now.api?.id.slice(0, 19) ?? 'unknown');
  if (downgradeTo) {
    if (!Array.isArray(current))
      throw new Refused(
        `downgrade refused: alembic_version could not be read (${current.unreadable})`,
        'rerun when the database answers (preflight 1.3)',
      );
    if (current.length !== 1)
      throw new Refused(
        `downgrade refused: alembic_version holds ${current.length} rows`,
        'resolve the heads by hand with Bolt',
      );
    const between = migrationPath(revisions, current[0]!, downgradeTo);
    if (!between)
      throw new Refused(
        `downgrade refused: ${downgradeTo} is not an ancestor of ${current[0]}`,
        'pick a revision from alembic/versions below the current one',
      );
    const irreversible = between.filter((r) => !r.reversible);
    if (irreversible.length) {
      throw new Refused(
        `downgrade refused before stopping anything: ${irreversible.map((r) => `${r.revision} (${r.file})`).join(', ')} has no real downgrade`,
        'restore from backup with Bolt instead; never downgrade across an irreversible migration',
      );
    }
  }
  const plan = rollbackPlan({
    running: buildOf(now.api, now.mcp),
    target: { ...chosen, digest },
    downgradeTo,
    revisions,
    current: Array.isArray(current) ? current : [],
  });
  return { plan, choice: { ...chosen, from, digest, interrupted } };
}

/**
 * Asks on the terminal. Ctrl-C stops the process there (130), with nothing changed; end of input (Ctrl-D) or no
 * answer within the deadline is no answer.
 */
async function typed(question: string, stopped: () => never): Promise<string | undefined> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  rl.on('SIGINT', stopped);
  try {
    return await new Promise<string | undefined>((resolve) => {
      rl.once('close', () => resolve(undefined));
      rl.question(question, { signal: AbortSignal.timeout(promptMs) }).then(resolve, () => resolve(undefined));
    });
  } finally {
    rl.close();
  }
}

/** Says why the phase does not start, on one line, and exits: no trace, nothing changed. */
function stop(phase: string, why: string, code: number): never {
  process.stderr.write(`\n${phase} did not start: ${why.split('\n').join(' ')}\n`);
  process.exit(code);
}

/**
 * Before a deploy or rollback starts: prints the plan; a dry run stops here, having changed nothing; a
 * production run goes on only when confirmed with the short SHA it puts in place (RUNBOOK_CONFIRM, or typed
 * on a terminal). Runs before the phase touches its evidence, its lock or the stack.
 */
export async function gatekeep(
  phase: 'deploy' | 'rollback',
  t: Target,
  checkout: string | undefined,
  opts: Pick<RunOptions, 'dryRun' | 'confirm' | 'downgradeTo'>,
  out: (s: string) => void,
): Promise<Plan | undefined> {
  let plan: Plan;
  try {
    plan = phase === 'deploy' ? await planDeploy(t, checkout) : (await planRollback(t, opts.downgradeTo)).plan;
  } catch (err) {
    if (opts.dryRun) stop(phase, `${(err as Error).message} (a dry run: nothing was changed)`, exitCode.couldNotStart);
    // On staging the phase's first check records the refusal; production stops here, with nothing changed.
    if (t.name === 'production') stop(phase, `${(err as Error).message} Nothing was changed.`, exitCode.couldNotStart);
    return undefined;
  }
  out(`${formatPlan(plan)}\n`);
  if (opts.dryRun) {
    out(
      `Dry run: nothing was changed. To ${phase}${t.name === 'production' ? `, confirm with RUNBOOK_CONFIRM=${confirmationFor(plan)}` : ''}: npm run ${phase}\n`,
    );
    process.exit(0);
  }
  let given = opts.confirm;
  if (t.name === 'production' && !given && process.stdin.isTTY)
    given = await typed(`Type ${confirmationFor(plan)} to ${phase} production, or Ctrl-C to stop: `, () =>
      stop(phase, 'stopped at the prompt (Ctrl-C). Nothing was changed.', exitCode.interrupted),
    );
  const c = confirm(plan, t.name, given);
  if (!c.ok) stop(phase, `${c.why} Nothing was changed.`, exitCode.couldNotStart);
  return plan;
}
