// @ts-check

/**
 * One row per entity whose health report was refreshed: the time until which no replica may
 * refresh it again. A conditional upsert on this table is the refresh limit's atomic claim.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('mlflow_health_refresh_claims', table => {
    table.comment(
      'Health refreshes per entity, shared by every backend replica (refreshMinIntervalSeconds)',
    );
    table.string('entity_ref', 255).primary().notNullable();
    table
      .bigInteger('claimed_until')
      .notNullable()
      .comment(
        'Epoch milliseconds before which the entity is not refreshed again',
      );
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('mlflow_health_refresh_claims');
};
