-- The demo report: a small sample store and what lifecycle finds in it.
\pset footer off
CREATE EXTENSION lifecycle;
CREATE TABLE orders (customer_id bigint, ordered_at timestamptz, amount numeric(12,2));
-- 200 customers over a year: some buy often, some once, some refund.
INSERT INTO orders
SELECT c, timestamptz '2025-01-01 00:00+00' + ((c * 37 + k * (c % 29 + 3) * 7) % 365) * interval '1 day'
          + (k % 24) * interval '1 hour',
       CASE WHEN (c + k) % 23 = 0 THEN -10.00 ELSE round((5 + (c * k) % 90)::numeric, 2) END
  FROM generate_series(1, 200) c, generate_series(1, 1 + c % 9) k;

\echo
\echo 'Per-customer summaries (first 15 customers), as of 2025-12-31:'
SELECT customer_id, (s).orders, (s).purchase_days, (s).first_purchase, (s).last_purchase,
       (s).monetary, (s).refunds,
       lifecycle.days_since_last_order(s, '2025-12-31') AS days_since_last_order,
       (lifecycle.btyd(s, '2025-12-31')).*
  FROM (SELECT customer_id, lifecycle.rfm_agg(ordered_at, amount) AS s
          FROM orders GROUP BY customer_id) c
 ORDER BY customer_id LIMIT 15;
