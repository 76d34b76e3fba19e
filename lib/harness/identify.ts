// Measures a phase's identity: its settings, and the build running on the target as Docker reports it.
import { caFingerprint, reconcileBuild, type Identity } from './identity.js';
import { settingOf, type Target } from './config.js';
import { imageInfo, serviceStates } from '../probes/docker.js';
import { revisionOf } from '../operations/rollback-state.js';

/** The build running on the target: the revision of the image the running api container was started from. */
export async function runningBuild(t: Target): Promise<Pick<Identity, 'build' | 'buildSources' | 'buildProblem'>> {
  const sources: Record<string, string> = {};
  const problems: string[] = [];
  if (t.deploySha) sources.RUNBOOK_DEPLOY_SHA = t.deploySha;
  try {
    const api = (await serviceStates(t.composeProject, ['api'])).get('api');
    if (api?.state !== 'running') problems.push(`no running api container in compose project ${t.composeProject}`);
    else {
      const rev = revisionOf(await imageInfo(api.imageId));
      if (rev) sources.docker = rev;
      else problems.push(`the running api image ${api.imageId.slice(0, 19)} carries no revision label or sha- tag`);
    }
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
