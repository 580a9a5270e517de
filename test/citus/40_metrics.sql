-- The metrics functions (PL/pgSQL, dynamic SQL over the orders relation) on
-- the distributed table.
SELECT citus_check.same('retention_metrics over 2025',
  $$SELECT (lifecycle.retention_metrics('{orders}', 'customer_id', 'ordered_at', 'amount', '2025-01-01', '2026-01-01')).*$$);
SELECT citus_check.same('retention_metrics over March 2024 in America/New_York',
  $$SELECT (lifecycle.retention_metrics('{orders}', 'customer_id', 'ordered_at', 'amount', '2024-03-01', '2024-04-01',
                                        'America/New_York')).*$$);
SELECT citus_check.same('retention_metrics over the whole window',
  $$SELECT (lifecycle.retention_metrics('{orders}', 'customer_id', 'ordered_at', 'amount', '2023-01-01', '2026-01-01')).*$$);
SELECT citus_check.same('customer_stages 2025-06-30 -> 2025-12-31',
  $$SELECT * FROM lifecycle.customer_stages('{orders}', 'customer_id', 'ordered_at', 'amount', '2025-06-30', '2025-12-31')$$);
SELECT citus_check.same('stage_metrics as of 2025-12-31',
  $$SELECT * FROM lifecycle.stage_metrics('{orders}', 'customer_id', 'ordered_at', 'amount', '2025-12-31')$$);
SELECT citus_check.same('transition_rates 2025-06-30 -> 2025-12-31',
  $$SELECT * FROM lifecycle.transition_rates('{orders}', 'customer_id', 'ordered_at', 'amount', '2025-06-30', '2025-12-31')$$);
SELECT citus_check.same('segment_metrics as of 2025-12-31 (quantile)',
  $$SELECT * FROM lifecycle.segment_metrics('{orders}', 'customer_id', 'ordered_at', 'amount', '2025-12-31')$$);
SELECT citus_check.same('segment_metrics as of 2025-12-31 (ntile, classic)',
  $$SELECT * FROM lifecycle.segment_metrics('{orders}', 'customer_id', 'ordered_at', 'amount', '2025-12-31', 'ntile', 'classic')$$);

-- retention_metrics' query, as it runs on the distributed table
SELECT citus_check.describe('where: retention_metrics over 2025 (its query), distributed', p)
  FROM citus_check.placement(format($q$
    SELECT (lifecycle.retention_of(count(*) FILTER (WHERE (s).orders > 0),
                                   coalesce(sum((s).orders), 0)::bigint,
                                   coalesce(sum((s).gross), 0),
                                   count(*) FILTER (WHERE (s).orders >= 2),
                                   coalesce(sum((s).refunds), 0)::bigint,
                                   coalesce(sum((s).refunded), 0))).*
      FROM (SELECT lifecycle.rfm_agg(o.day, o.amount) AS s FROM (%s) o GROUP BY o.customer) c$q$,
    lifecycle.orders_sql('dist.orders', 'customer_id', 'ordered_at', 'amount', 'UTC', '2025-01-01', '2026-01-01'))) p;
