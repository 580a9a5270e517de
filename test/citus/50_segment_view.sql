-- The segment view on the distributed table: refreshed on the coordinator,
-- which reads every customer's summary made on the workers (GROUP BY the
-- distribution column: one serialized state a customer crosses to the
-- coordinator, not every order row); the view's rows are a local table there.
SELECT lifecycle.create_segment_view('loc.segments', 'loc.orders', 'customer_id', 'ordered_at', 'amount',
                                     as_of => '2025-12-31', models => true) IS NOT NULL AS created_local \gset
SELECT lifecycle.create_segment_view('dist.segments', 'dist.orders', 'customer_id', 'ordered_at', 'amount',
                                     as_of => '2025-12-31', models => true) IS NOT NULL AS created_dist \gset
SELECT citus_check.tap(:'created_dist', 'create_segment_view on the distributed table (as of 2025-12-31, models on)');
SELECT citus_check.same('segment view rows, every column', 'SELECT * FROM {schema}.segments');
SELECT citus_check.same('companion _stage_summary', 'SELECT * FROM {schema}.segments_stage_summary');
SELECT citus_check.same('companion _segment_summary', 'SELECT * FROM {schema}.segments_segment_summary');
SELECT citus_check.same('companion _retention_monthly (reads the orders at query time)',
                        'SELECT * FROM {schema}.segments_retention_monthly');

-- Refresh times: three concurrent refreshes of each, alternating.
CALL lifecycle.refresh_segment_view('loc.segments');
CALL lifecycle.refresh_segment_view('dist.segments');
CALL lifecycle.refresh_segment_view('loc.segments');
CALL lifecycle.refresh_segment_view('dist.segments');
CALL lifecycle.refresh_segment_view('loc.segments');
CALL lifecycle.refresh_segment_view('dist.segments');
SELECT citus_check.same('segment view rows after three refreshes', 'SELECT * FROM {schema}.segments');
SELECT citus_check.same('companion _transitions after three refreshes', 'SELECT from_stage, to_stage, customers, as_of FROM {schema}.segments_transitions');
SELECT format('refresh times, %s: build %s s, refreshes %s s; outcomes %s; guest_orders %s',
              view_name,
              round(extract(epoch FROM min(duration) FILTER (WHERE rn = 1))::numeric, 2),
              string_agg(round(extract(epoch FROM duration)::numeric, 2)::text, ' s, ' ORDER BY run_id) FILTER (WHERE rn > 1),
              string_agg(DISTINCT outcome, ','), string_agg(DISTINCT guest_orders::text, ','))
  FROM (SELECT r.*, row_number() OVER (PARTITION BY view_name ORDER BY run_id) AS rn FROM lifecycle.refresh_runs r) r
 WHERE view_name IN ('loc.segments', 'dist.segments')
 GROUP BY view_name ORDER BY view_name DESC;

-- Where the refresh's work happens: its plans (nested statements too) logged
-- by auto_explain with ANALYZE during one more refresh of the distributed view.
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 1;  -- ms: leaves out the per-row statements of PL/pgSQL
SET auto_explain.log_analyze = on;
SET auto_explain.log_verbose = on;
SET auto_explain.log_nested_statements = on;
SELECT citus_check.log_size(:'coordinator_log') AS log_start \gset
CALL lifecycle.refresh_segment_view('dist.segments');
SET auto_explain.log_min_duration = -1;
CREATE TEMP TABLE refresh_plans AS
  SELECT substring(p FROM 'Query Text: ([^\n]*)') AS query, citus_check.placement_of_text(p) AS placement
    FROM citus_check.logged_plans(:'coordinator_log', :log_start) p
   WHERE p ~ 'Citus Adaptive';
SELECT format('where: refresh of the distributed segment view, statement %s: %s tasks; %s rows, %s received by the coordinator; %s ms [%s]',
              row_number() OVER (), (placement).tasks, (placement).rows_received,
              pg_size_pretty((placement).bytes_received), round((placement).ms::numeric),
              left(regexp_replace(query, '\s+', ' ', 'g'), 200))
  FROM refresh_plans;
SELECT format('refresh of the distributed segment view: %s rows, %s received by the coordinator in %s distributed statements (%s orders, %s customers)',
              sum((placement).rows_received), pg_size_pretty(sum((placement).bytes_received)), count(*),
              (SELECT count(*) FROM loc.orders), (SELECT count(*) FROM loc.segments)),
       citus_check.tap(sum((placement).rows_received) <= (SELECT count(*) FROM loc.segments),
                       'the refresh computes the summaries on the workers: at most one row a customer reaches the coordinator')
  FROM refresh_plans;

-- The view and its companions are objects of the coordinator: none of them
-- on the workers (Citus would copy the companions that read only its tables
-- and the extension's, where they would read empty history).
SELECT citus_check.tap(w = 'none', 'the segment view and its companions are on the coordinator only (none on the workers)',
                       CASE WHEN w <> 'none' THEN 'on the workers: ' || w END)
  FROM citus_check.on_workers($$SELECT coalesce(string_agg(c.oid::regclass::text, ',' ORDER BY c.oid::regclass::text), 'none')
                                  FROM pg_class c WHERE c.relname LIKE 'segments%'
                                   AND c.relnamespace IN ('dist'::regnamespace, 'loc'::regnamespace)$$) w;
SELECT lifecycle.drop_segment_view('dist.segments') IS NULL AS dropped \gset
