-- rfm_agg gives the same summaries under every plan shape: hash aggregate,
-- sorted group aggregate, a hash aggregate spilling to disk, a parallel plan
-- (partial aggregates combined through serialize/deserialize), and as a
-- window aggregate.  Each is checked against the summary written out with
-- built-in aggregates straight from the definitions of PRODUCT.md section 2.
SET client_min_messages = warning;

-- 3,000 customers, 60,000 rows in 6-hour slots over two years: repeat days, refunds (about
-- 1 in 17), unknown amounts and missing times.
CREATE TABLE orders AS
SELECT (i * 7919) % 3000 AS customer,
       CASE WHEN i % 101 = 0 THEN NULL
            ELSE timestamptz '2022-01-01 00:00+00' + ((i::bigint * 104729) % 2920) * interval '6 hours'
       END AS ordered_at,
       CASE WHEN i % 17 = 0 THEN -((i % 50) + 0.25)
            WHEN i % 53 = 0 THEN NULL
            ELSE ((i * 31) % 20000) / 100.0 END AS amount
  FROM generate_series(1, 60000) i;
ANALYZE orders;

-- The definition, with built-in aggregates only.
CREATE TABLE expected AS
WITH rows AS (
  SELECT customer, (ordered_at AT TIME ZONE 'UTC')::date AS day, amount,
         amount IS NULL OR amount >= 0 AS purchase
    FROM orders WHERE ordered_at IS NOT NULL),
days AS (
  SELECT customer, day, coalesce(sum(amount), 0) AS spend,
         row_number() OVER (PARTITION BY customer ORDER BY day) AS n_asc,
         row_number() OVER (PARTITION BY customer ORDER BY day DESC) AS n_desc
    FROM rows WHERE purchase GROUP BY customer, day),
day_facts AS (
  SELECT customer,
         max(day) FILTER (WHERE n_desc = 2) AS previous_purchase,
         max(spend) FILTER (WHERE n_asc = 1) AS first_day_spend
    FROM days GROUP BY customer)
SELECT r.customer,
       min(r.day) FILTER (WHERE purchase) AS first_purchase,
       max(r.day) FILTER (WHERE purchase) AS last_purchase,
       min(d.previous_purchase) AS previous_purchase,
       count(*) FILTER (WHERE purchase) AS orders,
       count(DISTINCT r.day) FILTER (WHERE purchase)::int AS purchase_days,
       coalesce(sum(amount), 0) AS monetary,
       coalesce(sum(amount) FILTER (WHERE purchase), 0) AS gross,
       count(*) FILTER (WHERE NOT purchase) AS refunds,
       coalesce(-sum(amount) FILTER (WHERE NOT purchase), 0) AS refunded,
       coalesce(min(d.first_day_spend), 0) AS first_day_spend
  FROM rows r LEFT JOIN day_facts d USING (customer)
 GROUP BY r.customer;

-- Does the plan of a query contain a node whose text matches the pattern?
CREATE FUNCTION plan_has(query text, pattern text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    IF line ~ pattern THEN RETURN true; END IF;
  END LOOP;
  RETURN false;
END $$;

-- Rows of the aggregate that differ from the definition (0 when equal).
CREATE FUNCTION mismatches(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((SELECT * FROM expected EXCEPT SELECT customer, (s).* FROM (%s) q)
                   UNION ALL (SELECT customer, (s).* FROM (%s) q EXCEPT SELECT * FROM expected)) d',
                 query, query) INTO n;
  RETURN n;
END $$;

\set q 'SELECT customer, lifecycle.rfm_agg(ordered_at, amount) AS s FROM orders GROUP BY customer'

SELECT count(*) AS customers, sum(orders) AS orders, sum(refunds) AS refunds FROM expected;

-- Hash aggregate.
SET enable_sort = off;
SELECT plan_has(:'q', 'HashAggregate') AS hash, mismatches(:'q');
-- Hash aggregate spilling to disk.
SET work_mem = '64kB';
SELECT plan_has(:'q', 'HashAggregate') AS hash, mismatches(:'q');
RESET work_mem;
RESET enable_sort;
-- Sorted group aggregate.
SET enable_hashagg = off;
SELECT plan_has(:'q', 'GroupAggregate') AS sorted, mismatches(:'q');
RESET enable_hashagg;
-- Parallel: partial aggregates in workers, combined in the leader.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT plan_has(:'q', 'Partial') AS parallel, mismatches(:'q');
SET enable_hashagg = off;
SELECT plan_has(:'q', 'Partial GroupAggregate') AS parallel_sorted, mismatches(:'q');
RESET enable_hashagg;
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
-- Window aggregate over each customer's partition.
SELECT mismatches('SELECT DISTINCT customer, lifecycle.rfm_agg(ordered_at, amount) OVER (PARTITION BY customer) AS s FROM orders');
-- Running window (growing frame): the final row of each customer equals the summary.
SELECT mismatches('SELECT DISTINCT ON (customer) customer, lifecycle.rfm_agg(ordered_at, amount) OVER w AS s
                     FROM orders WINDOW w AS (PARTITION BY customer ORDER BY ordered_at NULLS FIRST
                                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                    ORDER BY customer, ordered_at DESC NULLS LAST');

-- Monetary over numeric equals sum(amount) to the last digit.
SELECT (lifecycle.rfm_agg(ordered_at, amount)).monetary = sum(amount) AS exact,
       sum(amount) AS total
  FROM orders WHERE ordered_at IS NOT NULL;

-- The same summaries under any session TimeZone.
SET TimeZone = 'Asia/Tokyo';
SELECT mismatches(:'q');
SET TimeZone = 'America/Los_Angeles';
SELECT mismatches(:'q');
RESET TimeZone;
