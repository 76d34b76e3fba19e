// What a deploy or a rollback is about to do, before it does anything: what runs now, what will run after,
// and the migrations it crosses. Pure: the specs gather the facts, this decides and words the plan, and
// production changes nothing until the plan is confirmed with the short SHA it will put in place.
import { path, type Revision } from '../probes/alembic.js';
import { revisionOf, type ImageRef } from './rollback-state.js';

export interface Build {
  sha: string;
  api: string;
  mcp: string;
}

export interface Migrations {
  direction: 'upgrade' | 'downgrade';
  /** In the order they run. */
  revisions: string[];
  /** Crossed revisions with no real downgrade. */
  irreversible: string[];
}

export interface Plan {
  action: 'deploy' | 'rollback';
  now: Build;
  after: Build;
  /** Undefined when nothing is crossed; a string when the crossing cannot be worked out. */
  migrations: Migrations | string | undefined;
}

const short = (id: string | undefined) => (id ? id.replace(/^sha256:/, '').slice(0, 12) : 'none');

export function buildOf(api: ImageRef | undefined, mcp: ImageRef | undefined): Build {
  return {
    sha: revisionOf(api) ?? 'unknown',
    api: api ? short(api.id) : 'none running',
    mcp: mcp ? short(mcp.id) : 'none running',
  };
}

/** The rows of alembic_version (none before the first migration), or why they could not be read. */
export type CurrentRevisions = string[] | { unreadable: string };

export function deployPlan(input: {
  running: Build;
  build: string;
  apiImage: string;
  mcpImage: string;
  revisions: Revision[];
  current: CurrentRevisions;
  head: string[];
}): Plan {
  const after = {
    sha: input.build,
    api: `${input.apiImage}:sha-${input.build} (built now)`,
    mcp: `${input.mcpImage}:sha-${input.build} (built now)`,
  };
  let migrations: Plan['migrations'];
  if (input.head.length !== 1)
    migrations = `${input.head.length} heads in alembic/versions: the deploy stops at step 4`;
  else if (!Array.isArray(input.current))
    migrations = `could not check: alembic_version could not be read (${input.current.unreadable}), so which migrations step 4 runs is unknown`;
  else if (input.current.length === 0)
    migrations = `no alembic_version yet: every revision up to ${input.head[0]} will run`;
  else if (input.current.length === 1 && input.current[0] !== input.head[0]) {
    const crossed = path(input.revisions, input.head[0]!, input.current[0]!);
    migrations = crossed
      ? {
          direction: 'upgrade',
          revisions: crossed.map((r) => r.revision).reverse(),
          irreversible: crossed.filter((r) => !r.reversible).map((r) => r.revision),
        }
      : `${input.current[0]} is not an ancestor of ${input.head[0]}`;
  }
  return { action: 'deploy', now: input.running, after, migrations };
}

export function rollbackPlan(input: {
  running: Build;
  /** digest: the API image as the registry names it, the bytes every node pulls. */
  target: { sha: string; api: string; mcp: string | undefined; digest?: string };
  downgradeTo: string | undefined;
  revisions: Revision[];
  current: string[];
}): Plan {
  const after = {
    sha: input.target.sha,
    api: input.target.digest ? `${short(input.target.api)} (${input.target.digest})` : short(input.target.api),
    mcp: input.target.mcp ? short(input.target.mcp) : `${input.running.mcp} (no previous MCP image)`,
  };
  let migrations: Plan['migrations'];
  if (input.downgradeTo) {
    const crossed =
      input.current.length === 1 ? path(input.revisions, input.current[0]!, input.downgradeTo) : undefined;
    migrations = crossed
      ? {
          direction: 'downgrade',
          revisions: crossed.map((r) => r.revision),
          irreversible: crossed.filter((r) => !r.reversible).map((r) => r.revision),
        }
      : `downgrade to ${input.downgradeTo} from ${input.current.join(',') || 'nothing'}: not an ancestor, refused before anything is stopped`;
  }
  return { action: 'rollback', now: input.running, after, migrations };
}

/** The short SHA that confirms this plan. */
export const confirmationFor = (p: Plan) => p.after.sha.slice(0, 7);

export function formatPlan(p: Plan): string {
  const m = p.migrations;
  const migrations =
    m === undefined
      ? 'none'
      : typeof m === 'string'
        ? m
        : `${m.direction} ${m.revisions.join(' → ')}${m.irreversible.length ? ` (no real downgrade: ${m.irreversible.join(', ')})` : ''}`;
  return [
    `Plan: ${p.action} on this target`,
    `  now:        build ${p.now.sha}, API image ${p.now.api}, MCP image ${p.now.mcp}`,
    `  after:      build ${p.after.sha}, API image ${p.after.api}, MCP image ${p.after.mcp}`,
    `  migrations: ${migrations}`,
  ].join('\n');
}

export type Confirmation = { ok: true } | { ok: false; why: string };

/**
 * Production changes nothing until the plan is confirmed with the short SHA it puts in place, given as
 * RUNBOOK_CONFIRM or typed at the prompt. Staging needs no confirmation.
 */
export function confirm(p: Plan, target: 'staging' | 'production', given: string | undefined): Confirmation {
  if (target !== 'production') return { ok: true };
  const expected = confirmationFor(p);
  const command = `RUNBOOK_CONFIRM=${expected} npm run ${p.action}`;
  if (!given) return { ok: false, why: `production ${p.action} not confirmed. Read the plan, then run: ${command}` };
  if (given.trim() !== expected)
    return {
      ok: false,
      why: `confirmation "${given.trim()}" is not ${expected}, the build this ${p.action} puts in place. Read the plan, then run: ${command}`,
    };
  return { ok: true };
}
