// Measures a phase's identity: its settings, and the build running on the target as Docker reports it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runningBuildFrom, type DockerView, type Identity } from './identity.js';
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
  let docker: DockerView;
  try {
    const replicas = await orchestratorFor(t).replicas('api');
    const labelled = await Promise.all(
      replicas.map(async (r) => ({ ...r, revision: revisionOf(await imageInfo(r.imageId)) })),
    );
    docker = sharedRevision(labelled);
  } catch (err) {
    docker = { unreachable: (err as Error).message.split('\n')[0]! };
  }
  return runningBuildFrom(docker, t.statedBuild, `${t.orchestrator} project ${t.composeProject}`);
}

/** sha256 of the trusted CA bundle, or "system" for the system store. */
export function caFingerprint(caFile: string | undefined): string {
  if (!caFile) return 'system';
  try {
    return `sha256:${createHash('sha256').update(readFileSync(caFile)).digest('hex')}`;
  } catch (err) {
    return `unreadable: ${(err as Error).message}`;
  }
}

const originOf = (url: string | undefined) => (url ? new URL(url).origin : 'unset');

export async function identify(t: Target): Promise<Identity> {
  return {
    apiOrigin: new URL(t.apiUrl).origin,
    // Smoke and the gate may run without it (CI against a remote staging): recorded as unset.
    apiLocalOrigin: originOf(settingOf(t, 'apiLocalUrl')),
    mcpOrigin: new URL(t.mcpUrl).origin,
    caFingerprint: caFingerprint(t.caFile),
    projectDir: t.projectDir,
    diskPath: t.diskPath,
    // Smoke and the gate may run without the backups setting (CI against a remote staging): recorded as unset.
    backupsDir: settingOf(t, 'backupsDir') ?? 'unset',
    ...(await runningBuild(t)),
  };
}
