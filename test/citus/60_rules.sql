-- Custom rule sets live in lifecycle.segment_rules, a table of the extension
-- on each node: an INSERT on the coordinator stays there.  segment() by name
-- reads that table where it runs; segment(r, f, m, rules) takes the rules by
-- value and reads no table.
INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max)
SELECT 'mine', position, segment, r_min, r_max, f_min, f_max, m_min, m_max
  FROM lifecycle.segment_rules WHERE rule_set = 'default';
UPDATE lifecycle.segment_rules SET segment = 'Mine ' || segment WHERE rule_set = 'mine';
SELECT 'rule set "mine" inserted on the coordinator; rows on the workers: '
       || citus_check.on_workers($$SELECT count(*) FROM lifecycle.segment_rules WHERE rule_set = 'mine'$$);

-- A segment view with that rule set names segments on the coordinator.
SELECT lifecycle.create_segment_view('loc.segments_mine', 'loc.orders', 'customer_id', 'ordered_at', 'amount',
                                     as_of => '2025-12-31', rule_set => 'mine') IS NOT NULL AS created \gset
SELECT lifecycle.create_segment_view('dist.segments_mine', 'dist.orders', 'customer_id', 'ordered_at', 'amount',
                                     as_of => '2025-12-31', rule_set => 'mine') IS NOT NULL AS created \gset
SELECT citus_check.same('segment view with the custom rule set', 'SELECT * FROM {schema}.segments_mine');

-- A per-customer query that calls segment() pushes the call down to the
-- workers.  The rules by value: Citus evaluates the scalar subquery on the
-- coordinator and sends its value; the workers have no "mine".
SELECT citus_check.same('segment() with the rules of a rule set made on the coordinator, by value (SELECT lifecycle.rules(''mine''))',
  $$SELECT customer_id, lifecycle.segment((customer_id % 5)::int + 1, (count(*) % 5)::int + 1, 3, (SELECT lifecycle.rules('mine')))
      FROM {orders} GROUP BY customer_id$$);
-- By name: a shipped rule set is the same on every node; a custom one is
-- refused on the workers with 0A000, whatever their copies hold.
SELECT citus_check.same('segment() with a shipped rule set by name, pushed down',
  $$SELECT customer_id, lifecycle.segment((customer_id % 5)::int + 1, (count(*) % 5)::int + 1, 3, 'classic')
      FROM {orders} GROUP BY customer_id$$);
SELECT citus_check.tap(e LIKE '0A000: %', 'segment() with a rule set made on the coordinator, by name, fails on the workers with 0A000',
                       CASE WHEN e IS NULL OR e NOT LIKE '0A000: %' THEN 'got ' || coalesce(e, 'no error') END)
  FROM citus_check.sqlstate_of($$SELECT customer_id, lifecycle.segment(3, 3, 3, 'mine') FROM dist.orders GROUP BY customer_id$$) e;
SELECT 'segment() by name on the workers: ' || citus_check.sqlstate_of(
         $$SELECT customer_id, lifecycle.segment(3, 3, 3, 'mine') FROM dist.orders GROUP BY customer_id$$);

-- Copies that differ: the same rule set on the workers, different on worker 2.
SELECT 'copied "mine" to the workers: '
       || citus_check.on_workers($$INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max)
                                   SELECT 'mine', position, 'Mine ' || segment, r_min, r_max, f_min, f_max, m_min, m_max
                                     FROM lifecycle.segment_rules WHERE rule_set = 'default'$$);
SELECT 'changed rule 2 of "mine" on worker 2 only: '
       || citus_check.on_workers($$UPDATE lifecycle.segment_rules SET segment = 'Changed' WHERE rule_set = 'mine' AND position = 2
                                   AND current_setting('port') = '$$ || (current_setting('port')::int + 2) || $$'$$);
SELECT citus_check.tap(e LIKE '0A000: %', 'differing copies of a rule set cannot give different segments: by name, 0A000',
                       CASE WHEN e IS NULL OR e NOT LIKE '0A000: %' THEN 'got ' || coalesce(e, 'no error') END)
  FROM citus_check.sqlstate_of($$SELECT customer_id, lifecycle.segment((customer_id % 5)::int + 1, (count(*) % 5)::int + 1, 3, 'mine')
                                   FROM dist.orders GROUP BY customer_id$$) e;
SELECT citus_check.tap(e LIKE '0A000: %', 'differing copies of a rule set cannot give different segments: lifecycle.rules() evaluated on the workers, 0A000',
                       CASE WHEN e IS NULL OR e NOT LIKE '0A000: %' THEN 'got ' || coalesce(e, 'no error') END)
  FROM citus_check.sqlstate_of($$SELECT customer_id, lifecycle.segment((customer_id % 5)::int + 1, (count(*) % 5)::int + 1, 3, lifecycle.rules('mine'))
                                   FROM dist.orders GROUP BY customer_id$$) e;
SELECT citus_check.same('differing copies of a rule set on the workers, rules by value: the coordinator''s segments',
  $$SELECT customer_id, lifecycle.segment((customer_id % 5)::int + 1, (count(*) % 5)::int + 1, 3, (SELECT lifecycle.rules('mine')))
      FROM {orders} GROUP BY customer_id$$);
SELECT 'removed the copies: ' || citus_check.on_workers($$DELETE FROM lifecycle.segment_rules WHERE rule_set = 'mine'$$);

-- The rule table as a Citus reference table (the design not taken,
-- docs/citus.md): Citus refuses it for its triggers.
SELECT 'create_reference_table(''lifecycle.segment_rules''): '
       || coalesce(citus_check.error_of($$SELECT create_reference_table('lifecycle.segment_rules')$$), 'succeeded');
