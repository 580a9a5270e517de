-- Custom rule sets live in lifecycle.segment_rules, a table of the extension
-- on each node: an INSERT on the coordinator stays there.
INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max)
SELECT 'mine', position, segment, r_min, r_max, f_min, f_max, m_min, m_max
  FROM lifecycle.segment_rules WHERE rule_set = 'default';
SELECT 'rule set "mine" inserted on the coordinator; rows on the workers: '
       || citus_check.on_workers($$SELECT count(*) FROM lifecycle.segment_rules WHERE rule_set = 'mine'$$);

-- A segment view with that rule set names segments on the coordinator.
SELECT lifecycle.create_segment_view('loc.segments_mine', 'loc.orders', 'customer_id', 'ordered_at', 'amount',
                                     as_of => '2025-12-31', rule_set => 'mine') IS NOT NULL AS created \gset
SELECT lifecycle.create_segment_view('dist.segments_mine', 'dist.orders', 'customer_id', 'ordered_at', 'amount',
                                     as_of => '2025-12-31', rule_set => 'mine') IS NOT NULL AS created \gset
SELECT citus_check.same('segment view with the custom rule set', 'SELECT * FROM {schema}.segments_mine');

-- A per-customer query that calls segment() pushes the call down to the workers.
SELECT citus_check.tap(e IS NULL, 'segment() with a rule set made on the coordinator runs on the workers',
                       'TODO issue 13: ' || e)
  FROM citus_check.error_of($$SELECT customer_id, lifecycle.segment(3, 3, 3, 'mine') FROM dist.orders GROUP BY customer_id$$) e;

-- Copies that differ: the same rule set on the workers, different on worker 2.
SELECT 'copied "mine" to the workers: '
       || citus_check.on_workers($$INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max)
                                   SELECT 'mine', position, segment, r_min, r_max, f_min, f_max, m_min, m_max
                                     FROM lifecycle.segment_rules WHERE rule_set = 'default'$$);
SELECT citus_check.same('segment() in a per-customer query, identical copies of the rule set on every node',
  $$SELECT customer_id, lifecycle.segment((customer_id % 5)::int + 1, (count(*) % 5)::int + 1, 3, 'mine')
      FROM {orders} GROUP BY customer_id$$);
SELECT 'changed rule 2 of "mine" on worker 2 only: '
       || citus_check.on_workers($$UPDATE lifecycle.segment_rules SET segment = 'Changed' WHERE rule_set = 'mine' AND position = 2
                                   AND current_setting('port') = '$$ || (current_setting('port')::int + 2) || $$'$$);
SELECT citus_check.same('segment() with a copy of the rule set that differs on one worker', $$
  SELECT customer_id, lifecycle.segment((customer_id % 5)::int + 1, (count(*) % 5)::int + 1, 3, 'mine')
    FROM {orders} GROUP BY customer_id$$) AS line \gset
SELECT citus_check.tap(:'line' LIKE 'ok%', 'differing copies of a rule set cannot give different segments',
                       'TODO issue 13: ' || substring(:'line' FROM '# (.*)$'));
SELECT 'removed the copies: ' || citus_check.on_workers($$DELETE FROM lifecycle.segment_rules WHERE rule_set = 'mine'$$);

-- The rule table as a Citus reference table?
SELECT 'create_reference_table(''lifecycle.segment_rules''): '
       || coalesce(citus_check.error_of($$SELECT create_reference_table('lifecycle.segment_rules')$$), 'succeeded');

-- An experiment, not a supported setup (it alters a table of the extension):
-- lifecycle.segment_rules as a Citus reference table, to see what a
-- redesign along those lines meets.
SET citus.enable_unsafe_triggers = on;
SELECT 'create_reference_table with citus.enable_unsafe_triggers = on: '
       || coalesce(citus_check.error_of($$SELECT create_reference_table('lifecycle.segment_rules')$$), 'succeeded');
ALTER TABLE lifecycle.segment_rules DISABLE TRIGGER segment_rules_guard;
SELECT 'the same with the guard trigger disabled: '
       || coalesce(citus_check.error_of($$SELECT create_reference_table('lifecycle.segment_rules')$$), 'succeeded');
SELECT citus_check.error_of($$SELECT truncate_local_data_after_distributing_table('lifecycle.segment_rules')$$) AS truncate_error \gset
ALTER TABLE lifecycle.segment_rules ENABLE TRIGGER segment_rules_guard;
RESET citus.enable_unsafe_triggers;
SELECT 'rows of "mine" on the workers, segment_rules a reference table: '
       || citus_check.on_workers($$SELECT count(*) FROM lifecycle.segment_rules WHERE rule_set = 'mine'$$);
SELECT 'segment() in a per-customer query, segment_rules a reference table: '
       || coalesce(citus_check.error_of($$SELECT customer_id, lifecycle.segment(3, 3, 3, 'mine') FROM dist.orders GROUP BY customer_id$$),
                   'no error');
SET citus.propagate_set_commands = 'local';
BEGIN;
SET LOCAL citus.allow_nested_distributed_execution = on;
SELECT citus_check.same('segment() in a per-customer query, segment_rules a reference table, citus.allow_nested_distributed_execution on',
  $$SELECT customer_id, lifecycle.segment((customer_id % 5)::int + 1, (count(*) % 5)::int + 1, 3, 'mine')
      FROM {orders} GROUP BY customer_id$$);
COMMIT;
RESET citus.propagate_set_commands;
