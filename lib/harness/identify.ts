// Measures a phase's identity: its settings, and the build running on the target as Docker reports it.
import { caFingerprint, reconcileBuild, type Identity } from './identity.js';
import { settingOf, type Target } from './config.js';
import { imageInfo } from '../probes/docker.js';
import { sharedRevision } from '../operations/orchestrator.js';
import { orchestratorFor } from '../operations/orchestrators.js';
import { revisionOf } from '../operations/rollback-state.js';

/**
 * The build running on the target: the revision every running api replica was started from (the one container
 * on Compose, every task on Swarm). Replicas that disagree name no build.
 */
export async function runningBuild(t: Target): Promise<Pick<Identity, 'build' | 'buildSources' | 'buildProblem'>> {
  const sources: Record<string, string> = {};
  const problems: string[] = [];
  if (t.deploySha) sources.RUNBOOK_DEPLOY_SHA = t.deploySha;
  try {
    const replicas = await orchestratorFor(t).replicas('api');
    const labelled = await Promise.all(
      replicas.map(async (r) => ({ ...r, revision: revisionOf(await imageInfo(r.imageId)) })),
    );
    const shared = sharedRevision(labelled);
    if ('revision' in shared) sources.docker = shared.revision;
    else problems.push(`${shared.problem} (${t.orchestrator} project ${t.composeProject})`);
  } catch (err) {
    if (!t.deploySha)
      problems.push(
        `Docker did not answer (${(err as Error).message.split('\n')[0]}); set RUNBOOK_DEPLOY_SHA where Docker cannot be asked`,
      );
  }
  if (problems.length && !sources.RUNBOOK_DEPLOY_SHA) return reconcileBuild({}, problems);
  return reconcileBuild(sources, problems);
}

export async function identify(t: Target): Promise<Identity> {
  return {
    apiOrigin: new URL(t.apiUrl).origin,
    mcpOrigin: new URL(t.mcpUrl).origin,
    caFingerprint: caFingerprint(t.caFile),
    projectDir: t.projectDir,
    diskPath: t.diskPath,
    // Smoke and the gate may run without the backups setting (CI against a remote staging): recorded as unset.
    backupsDir: settingOf(t, 'backupsDir') ?? 'unset',
    ...(await runningBuild(t)),
  };
}
