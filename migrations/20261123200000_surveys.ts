import type { Knex } from 'knex';

/** Surveys and audiences: status values, and the indexes behind response paging and audience checks. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table surveys add constraint surveys_status_check check (status in ('draft', 'active', 'paused', 'archived'));

    -- Keyset paging of responses, newest first: (completed_at, id) is the cursor.
    create index survey_responses_page_idx on survey_responses (workspace_id, completed_at desc, id desc);
    create index survey_responses_survey_page_idx on survey_responses (workspace_id, survey_id, completed_at desc, id desc);

    create index surveys_audience_idx on surveys (workspace_id, audience_id) where audience_id is not null;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index if exists surveys_audience_idx;
    drop index if exists survey_responses_survey_page_idx;
    drop index if exists survey_responses_page_idx;
    alter table surveys drop constraint if exists surveys_status_check;
  `);
}
