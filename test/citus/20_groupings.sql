-- Aggregates grouped by something other than the distribution column.  Citus
-- splits an aggregate into partial ones on the workers and a combine on the
-- coordinator only when it can ship its state (not for internal states):
-- otherwise it pulls the rows to the coordinator and aggregates there.
SELECT citus_check.same('rfm_agg GROUP BY month',
  $$SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC') AS month, lifecycle.rfm_agg(ordered_at, amount) AS s
      FROM {orders} GROUP BY 1$$);
SELECT citus_check.same('rfm_agg over all orders (one global row)',
  'SELECT lifecycle.rfm_agg(ordered_at, amount) AS s FROM {orders}');
SELECT citus_check.same('rfm_agg GROUP BY customer_id % 10 (not the distribution column)',
  'SELECT customer_id % 10 AS bucket, lifecycle.rfm_agg(ordered_at, amount) AS s FROM {orders} GROUP BY 1');

-- The anchor: built-in aggregates by month are combined from partial results.
SELECT citus_check.describe('where: built-in count/sum/min/max GROUP BY month, distributed', p)
  FROM citus_check.placement($$SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC'), count(*), sum(amount),
                                      min(ordered_at), max(ordered_at) FROM dist.orders GROUP BY 1$$) p;

SELECT citus_check.describe('where: rfm_agg GROUP BY month, distributed', p),
       citus_check.tap(p.rows_received < 1000,
                       'rfm_agg GROUP BY month is combined from partial states made on the workers',
                       format('TODO issue 13: pulled to the coordinator, %s rows, %s', p.rows_received,
                              pg_size_pretty(p.bytes_received)))
  FROM citus_check.placement($$SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC'), lifecycle.rfm_agg(ordered_at, amount)
                                 FROM dist.orders GROUP BY 1$$) p;
SELECT citus_check.describe('where: rfm_agg over all orders, distributed', p),
       citus_check.tap(p.rows_received < 1000,
                       'rfm_agg over all orders is combined from partial states made on the workers',
                       format('TODO issue 13: pulled to the coordinator, %s rows, %s', p.rows_received,
                              pg_size_pretty(p.bytes_received)))
  FROM citus_check.placement('SELECT lifecycle.rfm_agg(ordered_at, amount) FROM dist.orders') p;

-- With coordinator aggregation off, Citus refuses what it cannot push down.
SET citus.coordinator_aggregation_strategy = 'disabled';
SELECT 'coordinator_aggregation_strategy = disabled, rfm_agg GROUP BY month: '
       || coalesce(e, 'no error'),
       citus_check.tap(e IS NULL, 'rfm_agg GROUP BY month runs with citus.coordinator_aggregation_strategy = disabled',
                       'TODO issue 13: ' || e)
  FROM citus_check.error_of($$SELECT date_trunc('month', ordered_at), lifecycle.rfm_agg(ordered_at, amount)
                                FROM dist.orders GROUP BY 1$$) e;
SELECT 'coordinator_aggregation_strategy = disabled, count/sum GROUP BY month: ' || coalesce(e, 'no error'),
       citus_check.tap(e IS NULL, 'built-in aggregates GROUP BY month run with citus.coordinator_aggregation_strategy = disabled')
  FROM citus_check.error_of($$SELECT date_trunc('month', ordered_at), count(*), sum(amount)
                                FROM dist.orders GROUP BY 1$$) e;
RESET citus.coordinator_aggregation_strategy;
