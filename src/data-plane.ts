import type { PlaneIssue, RoutingTable } from './routing-table.ts';

/**
 * What both data planes implement. The composition root calls `apply(firstTable)` once the first complete listing
 * succeeded, then `start()` (so nothing is ever served from an empty table), then `apply` for every new table (one
 * at a time, latest wins), then `stop` at shutdown. Data planes import only the shared types, never dockerode.
 */
export interface DataPlane {
  readonly name: 'node' | 'nginx';
  /** Bind listeners / start nginx. Called once, after the first apply. */
  start(): Promise<void>;
  /** Make this table live. Must not throw for bad table contents; throws only when the plane itself is broken. */
  apply(table: RoutingTable): Promise<void>;
  /**
   * What this plane could not serve of the last applied table, per container and host (the nginx plane: values
   * nginx cannot take, gRPC on a shared port). `berth explain` and `berth routes` show them with discovery's issues.
   */
  issues?(): readonly PlaneIssue[];
  /** Stop accepting, let in-flight requests finish within `graceMs`, release everything. */
  stop(graceMs: number): Promise<void>;
}
