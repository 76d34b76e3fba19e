// Where each API replica answers on its own: the local URL's port plus the replica's task slot, less one. Replicas
// of a swarm on one host share its network, so each takes its port from its slot; slot 1, and the one container of
// Compose, keep the local URL itself. Smoke asks each replica's /health there, and rollback §6 its counters.
import type { Replica } from '../operations/orchestrator.js';

export function replicaOrigin(localUrl: string, slot: number | undefined): string {
  const u = new URL(localUrl);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  u.port = String(port + (slot ?? 1) - 1);
  return u.origin;
}

export function replicaOrigins(localUrl: string, replicas: readonly Replica[]): string[] {
  return replicas.map((r) => replicaOrigin(localUrl, r.slot));
}
