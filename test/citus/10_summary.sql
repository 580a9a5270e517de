-- The per-customer summary on the distribution column: Citus pushes the whole
-- GROUP BY down to the workers; the coordinator only concatenates rows.
SELECT citus_check.same('rfm_agg GROUP BY customer_id',
  'SELECT customer_id, lifecycle.rfm_agg(ordered_at, amount) AS s FROM {orders} GROUP BY customer_id');
SELECT citus_check.same('rfm_agg with a time zone GROUP BY customer_id',
  $$SELECT customer_id, lifecycle.rfm_agg(ordered_at, amount, 'America/New_York') AS s FROM {orders} GROUP BY customer_id$$);
SELECT citus_check.same('btyd(rfm_agg) in weeks GROUP BY customer_id',
  $$SELECT customer_id, (lifecycle.btyd(lifecycle.rfm_agg(ordered_at, amount), '2025-12-31', 'week')).*
      FROM {orders} GROUP BY customer_id$$);

SELECT citus_check.describe('where: rfm_agg GROUP BY customer_id, distributed', p),
       citus_check.tap(p.coordinator = 'Custom Scan' AND p.worker LIKE '%Aggregate%',
                       'rfm_agg GROUP BY customer_id runs whole on the workers (the coordinator plan is the Citus scan alone)')
  FROM citus_check.placement('SELECT customer_id, lifecycle.rfm_agg(ordered_at, amount) FROM dist.orders GROUP BY customer_id') p;

-- The same per-customer rows as plain columns: Citus ships a composite
-- column (lifecycle.rfm) in text, plain columns in binary.
SELECT citus_check.describe('where: rfm_agg GROUP BY customer_id as plain columns ((s).*), distributed', p)
  FROM citus_check.placement('SELECT customer_id, (lifecycle.rfm_agg(ordered_at, amount)).* FROM dist.orders GROUP BY customer_id') p;
-- and the order rows themselves, as a query that reads them all ships them
SELECT citus_check.describe('where: the order rows (customer_id, ordered_at, amount), distributed', p)
  FROM citus_check.placement('SELECT customer_id, ordered_at, amount FROM dist.orders') p;
