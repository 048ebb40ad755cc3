import type { Knex } from 'knex';
import type { Db } from '../db/types.js';

/**
 * A piece of SQL text with its bound values. Built only with the `sql` tag: every interpolated value becomes a
 * `?` placeholder and a binding, so input never reaches SQL text. Interpolated fragments are inlined.
 */
export class Frag {
  constructor(readonly text: string, readonly bindings: readonly unknown[]) {}
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): Frag {
  let text = strings[0];
  const bindings: unknown[] = [];
  values.forEach((v, i) => {
    if (v instanceof Frag) {
      text += v.text;
      bindings.push(...v.bindings);
    } else {
      text += '?';
      bindings.push(v);
    }
    text += strings[i + 1];
  });
  return new Frag(text, bindings);
}

/** Joins fragments with a fixed separator (SQL text we wrote, never input). */
export function join(frags: Frag[], separator: ' and ' | ' or ' | ', ' | ' union all ' | ' '): Frag {
  return new Frag(frags.map((f) => f.text).join(separator), frags.flatMap((f) => f.bindings));
}

export const TRUE = new Frag('true', []);
export const FALSE = new Frag('false', []);

/** Runs a fragment and returns its rows. */
export async function rowsOf<T>(db: Db, f: Frag): Promise<T[]> {
  const result = await db.raw(f.text, f.bindings as Knex.RawBinding[]);
  return result.rows as T[];
}
