import type { Knex } from 'knex';

// (Regexes below say {0,1} rather than ?: knex.raw would take ? for a placeholder.)
// Segment engine: typed-comparison helpers used by compiled definitions, the scheduled-evaluation watermark,
// and a statement trigger that marks brand-new users dirty for every segment ('*').
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- A JSON value as a number: JSON numbers, and strings that spell a number. Anything else is null (no match).
    create function ag_num(v jsonb) returns numeric language sql immutable parallel safe as $$
      select case jsonb_typeof(v)
        when 'number' then (v #>> '{}')::numeric
        when 'string' then case when (v #>> '{}') ~ '^\\s*[-+]{0,1}(\\d+\\.{0,1}\\d*|\\.\\d+)([eE][-+]{0,1}\\d{1,3}){0,1}\\s*$'
                                then trim(v #>> '{}')::numeric end
      end
    $$;

    -- A JSON value as a boolean: true/false, and the strings "true"/"false" in any case.
    create function ag_bool(v jsonb) returns boolean language sql immutable parallel safe as $$
      select case jsonb_typeof(v)
        when 'boolean' then (v #>> '{}')::boolean
        when 'string' then case lower(v #>> '{}') when 'true' then true when 'false' then false end
      end
    $$;

    -- Text of a scalar JSON value (strings, numbers, booleans), for case-insensitive comparison.
    create function ag_text(v jsonb) returns text language sql immutable parallel safe as $$
      select case when jsonb_typeof(v) in ('string', 'number', 'boolean') then v #>> '{}' end
    $$;

    -- An instant from an ISO 8601 string. A date alone is 00:00 UTC; a time without an offset is UTC.
    -- Anything else (including impossible dates such as Feb 30) is null. No exception block: parallel safe.
    create function ag_ts_text(s text) returns timestamptz language sql immutable parallel safe as $$
      select case when s ~ '^[1-9]\\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])([T ]([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d(\\.\\d{1,6}){0,1}){0,1}(Z|z|[+-]([01]\\d|2[0-3])(:{0,1}[0-5]\\d){0,1}){0,1}){0,1}$' then
        case when substr(s, 9, 2)::int <= extract(day from make_date(substr(s, 1, 4)::int, substr(s, 6, 2)::int, 1) + interval '1 month - 1 day') then
          case when length(s) > 16 and s ~ '(Z|z|[+-]\\d{2}(:{0,1}\\d{2}){0,1})$' then s::timestamptz
               else (s::timestamp) at time zone 'UTC' end
        end
      end
    $$;
    create function ag_ts(v jsonb) returns timestamptz language sql immutable parallel safe as $$
      select case when jsonb_typeof(v) = 'string' then ag_ts_text(v #>> '{}') end
    $$;

    alter table segments add column last_scheduled_at timestamptz;
    create index segments_status_idx on segments (workspace_id, status, type);

    -- A user row that did not exist before can match segments through absent traits or zero counts,
    -- whatever the message said: mark new users dirty for every segment.
    create function ag_mark_new_users_dirty() returns trigger language plpgsql as $$
    begin
      insert into dirty_users as d (workspace_id, user_id, inputs)
      select workspace_id, user_id, '{*}' from inserted order by workspace_id, user_id
      on conflict (workspace_id, user_id) do update
        set inputs = array(select distinct x from unnest(d.inputs || excluded.inputs) x);
      return null;
    end
    $$;
    create trigger users_new_dirty after insert on users
      referencing new table as inserted for each statement execute function ag_mark_new_users_dirty();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop trigger if exists users_new_dirty on users;
    drop function if exists ag_mark_new_users_dirty();
    drop index if exists segments_status_idx;
    alter table segments drop column if exists last_scheduled_at;
    drop function if exists ag_ts(jsonb);
    drop function if exists ag_ts_text(text);
    drop function if exists ag_text(jsonb);
    drop function if exists ag_bool(jsonb);
    drop function if exists ag_num(jsonb);
  `);
}
