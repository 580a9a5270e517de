-- Population-wide aggregates over per-customer rows: the breaks and the
-- model fits.  The per-customer step (GROUP BY the distribution column)
-- pushes down; the outer aggregate has an internal state, so Citus gathers
-- the per-customer rows on the coordinator and aggregates them there.
SELECT citus_check.same('rfm_breaks over per-customer summaries (quantile)',
  $$SELECT (lifecycle.rfm_breaks(lifecycle.days_since_last_order(s, '2025-12-31'), (s).orders, (s).monetary)).*
      FROM (SELECT lifecycle.rfm_agg(ordered_at, amount) AS s FROM {orders} GROUP BY customer_id) c$$);
SELECT citus_check.describe('where: rfm_breaks over per-customer summaries, distributed', p)
  FROM citus_check.placement($$SELECT lifecycle.rfm_breaks(lifecycle.days_since_last_order(s, '2025-12-31'), (s).orders, (s).monetary)
      FROM (SELECT lifecycle.rfm_agg(ordered_at, amount) AS s FROM dist.orders GROUP BY customer_id) c$$) p;

SELECT citus_check.same('bgnbd_fit over per-customer BTYD inputs (weeks)',
  $$SELECT (lifecycle.bgnbd_fit(b.frequency, b.recency, b.t)).*
      FROM (SELECT (lifecycle.btyd(lifecycle.rfm_agg(ordered_at, amount), '2025-12-31', 'week')).*
              FROM {orders} GROUP BY customer_id) b$$);
SELECT citus_check.same('gammagamma_fit over per-customer BTYD inputs',
  $$SELECT (lifecycle.gammagamma_fit(b.frequency, b.monetary_value::float8)).*
      FROM (SELECT (lifecycle.btyd(lifecycle.rfm_agg(ordered_at, amount), '2025-12-31', 'week')).*
              FROM {orders} GROUP BY customer_id) b$$);
SELECT citus_check.same('mbgnbd_fit over per-customer BTYD inputs (weeks)',
  $$SELECT (lifecycle.mbgnbd_fit(b.frequency, b.recency, b.t)).*
      FROM (SELECT (lifecycle.btyd(lifecycle.rfm_agg(ordered_at, amount), '2025-12-31', 'week')).*
              FROM {orders} GROUP BY customer_id) b$$);

-- The fits keep an internal state: Citus gathers their per-customer rows on
-- the coordinator.  A partial state could only be a worker's distinct input
-- rows with their weights (32 bytes each), and nearly every customer's
-- (frequency, recency, T) is its own, so it would not carry less than the
-- rows do (about 24 bytes each): what the counts below measure.
SELECT citus_check.describe('where: bgnbd_fit over per-customer BTYD inputs, distributed', p)
  FROM citus_check.placement($$SELECT lifecycle.bgnbd_fit(b.frequency, b.recency, b.t)
      FROM (SELECT (lifecycle.btyd(lifecycle.rfm_agg(ordered_at, amount), '2025-12-31', 'week')).*
              FROM dist.orders GROUP BY customer_id) b$$) p;
SELECT format('the fits'' inputs: %s customers, %s distinct (frequency, recency, T) rows (what bgnbd_fit keeps), %s distinct (frequency, monetary_value) rows (gammagamma_fit)',
              count(*), count(DISTINCT (b.frequency, b.recency, b.t)), count(DISTINCT (b.frequency, b.monetary_value)))
  FROM (SELECT (lifecycle.btyd(lifecycle.rfm_agg(ordered_at, amount), '2025-12-31', 'week')).*
          FROM dist.orders GROUP BY customer_id) b;

SET citus.coordinator_aggregation_strategy = 'disabled';
SELECT 'coordinator_aggregation_strategy = disabled, ' || a || ': ' || coalesce(e, 'no error')
  FROM (VALUES ('bgnbd_fit', $$SELECT lifecycle.bgnbd_fit(b.frequency, b.recency, b.t)
                  FROM (SELECT (lifecycle.btyd(lifecycle.rfm_agg(ordered_at, amount), '2025-12-31', 'week')).*
                          FROM dist.orders GROUP BY customer_id) b$$),
               ('rfm_breaks', $$SELECT lifecycle.rfm_breaks(lifecycle.days_since_last_order(s, '2025-12-31'), (s).orders, (s).monetary)
                  FROM (SELECT lifecycle.rfm_agg(ordered_at, amount) AS s FROM dist.orders GROUP BY customer_id) c$$)) q(a, sql),
       citus_check.error_of(q.sql) e;
RESET citus.coordinator_aggregation_strategy;
