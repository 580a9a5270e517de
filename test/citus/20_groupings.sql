-- Aggregates grouped by something other than the distribution column.  Citus
-- splits an aggregate into partial ones on the workers and a combine on the
-- coordinator only when it can ship its state (not for internal states):
-- otherwise it pulls the rows to the coordinator and aggregates there.
-- rfm_agg's state is the type lifecycle.rfm_state, which it can ship.
SELECT citus_check.same('rfm_agg GROUP BY month',
  $$SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC') AS month, lifecycle.rfm_agg(ordered_at, amount) AS s
      FROM {orders} GROUP BY 1$$);
SELECT citus_check.same('rfm_agg over all orders (one global row)',
  'SELECT lifecycle.rfm_agg(ordered_at, amount) AS s FROM {orders}');
SELECT citus_check.same('rfm_agg GROUP BY customer_id % 10 (not the distribution column)',
  'SELECT customer_id % 10 AS bucket, lifecycle.rfm_agg(ordered_at, amount) AS s FROM {orders} GROUP BY 1');

-- The anchors: built-in aggregates by month are combined from partial
-- results; so is a user-defined aggregate whose state type is not a
-- pseudo-type, through Citus's worker_partial_agg and coord_combine_agg.
SELECT citus_check.describe('where: built-in count/sum/min/max GROUP BY month, distributed', p)
  FROM citus_check.placement($$SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC'), count(*), sum(amount),
                                      min(ordered_at), max(ordered_at) FROM dist.orders GROUP BY 1$$) p;
CREATE FUNCTION dist.anchor_trans(numeric, timestamptz, numeric) RETURNS numeric
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT $1 + $3';
CREATE AGGREGATE dist.anchor_agg(timestamptz, numeric) (
  SFUNC = dist.anchor_trans, STYPE = numeric, COMBINEFUNC = numeric_add, INITCOND = '0', PARALLEL = SAFE);
SELECT citus_check.same('a user-defined aggregate (numeric state, combine function) GROUP BY month',
  $$SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC') AS month, dist.anchor_agg(ordered_at, amount) AS s
      FROM {orders} GROUP BY 1$$);
SELECT citus_check.describe('where: user-defined aggregate (numeric state) GROUP BY month, distributed', p),
       citus_check.tap(p.worker LIKE 'Aggregate%', 'a user-defined aggregate with a numeric state is combined from partial states made on the workers')
  FROM citus_check.placement($$SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC'), dist.anchor_agg(ordered_at, amount)
                                 FROM dist.orders GROUP BY 1$$) p;
SELECT 'EXPLAIN VERBOSE, coordinator: ' || (plan -> 0 -> 'Plan' ->> 'Output')
       || '; task query: ' || (jsonb_path_query_first(plan, 'strict $.**."Tasks"[0]."Query"') #>> '{}')
  FROM citus_check.explain($$SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC'), dist.anchor_agg(ordered_at, amount)
                             FROM dist.orders GROUP BY 1$$) plan;

SELECT citus_check.describe('where: rfm_agg GROUP BY month, distributed', p),
       citus_check.tap(p.worker LIKE 'Aggregate%',
                       'rfm_agg GROUP BY month is combined from partial states made on the workers')
  FROM citus_check.placement($$SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC'), lifecycle.rfm_agg(ordered_at, amount)
                                 FROM dist.orders GROUP BY 1$$) p;
SELECT citus_check.describe('where: rfm_agg over all orders, distributed', p),
       citus_check.tap(p.worker LIKE 'Aggregate%',
                       'rfm_agg over all orders is combined from partial states made on the workers')
  FROM citus_check.placement('SELECT lifecycle.rfm_agg(ordered_at, amount) FROM dist.orders') p;
-- What the partial states weigh: the workers' own partial aggregate, per
-- shard, measured as the text Citus sends (EXPLAIN ANALYZE cannot, #4043).
SELECT format('bytes of the partial states, rfm_agg GROUP BY month: %s in %s rows (their text form)',
              pg_size_pretty(sum(split_part(result, ',', 1)::bigint)), sum(split_part(result, ',', 2)::bigint))
  FROM run_command_on_shards('dist.orders',
         $$SELECT sum(octet_length(s::text)) || ',' || count(*)
             FROM (SELECT pg_catalog.worker_partial_agg('lifecycle.rfm_agg(timestamp with time zone,numeric)'::regprocedure,
                                                        ROW(ordered_at, amount)) AS s
                     FROM %s GROUP BY date_trunc('month', ordered_at AT TIME ZONE 'UTC')) p$$);
SELECT 'EXPLAIN VERBOSE, rfm_agg GROUP BY month, coordinator: ' || (plan -> 0 -> 'Plan' ->> 'Output')
       || '; task query: ' || (jsonb_path_query_first(plan, 'strict $.**."Tasks"[0]."Query"') #>> '{}')
  FROM citus_check.explain($$SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC'), lifecycle.rfm_agg(ordered_at, amount)
                             FROM dist.orders GROUP BY 1$$) plan;

-- With coordinator aggregation off, Citus refuses what it cannot push down.
SET citus.coordinator_aggregation_strategy = 'disabled';
SELECT 'coordinator_aggregation_strategy = disabled, rfm_agg GROUP BY month: '
       || coalesce(e, 'no error'),
       citus_check.tap(e IS NULL, 'rfm_agg GROUP BY month runs with citus.coordinator_aggregation_strategy = disabled')
  FROM citus_check.error_of($$SELECT date_trunc('month', ordered_at), lifecycle.rfm_agg(ordered_at, amount)
                                FROM dist.orders GROUP BY 1$$) e;
SELECT 'coordinator_aggregation_strategy = disabled, count/sum GROUP BY month: ' || coalesce(e, 'no error'),
       citus_check.tap(e IS NULL, 'built-in aggregates GROUP BY month run with citus.coordinator_aggregation_strategy = disabled')
  FROM citus_check.error_of($$SELECT date_trunc('month', ordered_at), count(*), sum(amount)
                                FROM dist.orders GROUP BY 1$$) e;
RESET citus.coordinator_aggregation_strategy;
