/**
 * A named prepared statement for a hot-path query whose text never changes: `db.raw(sql, b).options(prepared('x'))`.
 * node-postgres parses it once per connection and PostgreSQL can reuse its plan, so a group commit skips
 * parsing and planning its large set-based statements (measured in bench/ingest.ts). The name must be unique
 * per statement text.
 */
export function prepared(name: string): { name: string } {
  return { name };
}
