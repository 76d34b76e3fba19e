// Where the runbook's data checks reach each data service. A URL the operator set is used as given; with none,
// the service's own client runs inside its container, as the runbook's `docker exec` commands do, and the
// operator needs no password and no published port.
import type { InContainer, Reach } from '../probes/in-container.js';
import { serviceContainer } from '../probes/docker.js';
import type { Target } from './config.js';

export interface DataServices {
  primary: Reach;
  replica: Reach;
  pgbouncer: Reach;
  redis: Reach;
}

/** The runbook's own logins inside the containers: `psql -U buywhere -d catalog`, `psql -U pgbouncer pgbouncer`. */
const logins = {
  db: { user: 'buywhere', database: 'catalog' },
  db_replica: { user: 'buywhere', database: 'catalog' },
  pgbouncer: { user: 'pgbouncer', database: 'pgbouncer' },
  redis: {},
} as const;

/** A data service reached inside its own container, with the runbook's login. */
export function inContainer(
  t: Pick<Target, 'composeProject' | 'orchestrator'>,
  service: keyof typeof logins,
): InContainer {
  return { service, ...logins[service], container: () => serviceContainer(t.composeProject, service, t.orchestrator) };
}

export function dataServices(t: Target): DataServices {
  const reach = (url: Target['databaseUrl'], service: keyof typeof logins): Reach =>
    url ? { url } : inContainer(t, service);
  return {
    primary: reach(t.databaseUrl, 'db'),
    replica: reach(t.replicaUrl, 'db_replica'),
    pgbouncer: reach(t.pgbouncerAdminUrl, 'pgbouncer'),
    redis: reach(t.redisUrl, 'redis'),
  };
}
