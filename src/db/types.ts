import type { Knex } from 'knex';

/** A knex instance or a transaction: domain functions take either, so they compose inside a caller's transaction. */
export type Db = Knex | Knex.Transaction;
