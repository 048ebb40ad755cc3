import type { Knex } from 'knex';
import * as core from './20261123000000_core.js';
import * as segments from './20261123100000_segments.js';
import * as surveys from './20261123200000_surveys.js';
import * as outbound from './20261123300000_outbound.js';
import * as users from './20261123600000_users.js';
import * as workerHeartbeats from './20261123700000_worker_heartbeats.js';
import * as admin from './20261123400000_admin.js';
import * as dirtyClaims from './20261123800000_dirty_claims.js';
import * as segmentMembersCovering from './20261123810000_segment_members_covering.js';
import * as ingestSingleStatement from './20261123900000_ingest_single_statement.js';
import * as eventCountsCoveringPk from './20261123910000_event_counts_covering_pk.js';
import * as claimPlans from './20261123920000_claim_plans.js';
import * as membershipWritesWithoutFk from './20261123930000_membership_writes_without_fk.js';

/**
 * Every migration, in order. Listed here (not discovered from the folder) so the same list works
 * under tsx, vitest and the compiled build. Add new files at the end.
 */
export const migrations: Record<string, { up(k: Knex): Promise<void>; down(k: Knex): Promise<void> }> = {
  '20261123000000_core': core,
  '20261123100000_segments': segments,
  '20261123200000_surveys': surveys,
  '20261123300000_outbound': outbound,
  '20261123600000_users': users,
  '20261123700000_worker_heartbeats': workerHeartbeats,
  '20261123400000_admin': admin,
  '20261123800000_dirty_claims': dirtyClaims,
  '20261123810000_segment_members_covering': segmentMembersCovering,
  '20261123900000_ingest_single_statement': ingestSingleStatement,
  '20261123910000_event_counts_covering_pk': eventCountsCoveringPk,
  '20261123920000_claim_plans': claimPlans,
  '20261123930000_membership_writes_without_fk': membershipWritesWithoutFk,
};
