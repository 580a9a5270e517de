-- RFM scores: the breaks of a population (aggregate lifecycle.rfm_breaks) and
-- the 1-5 scores they give (lifecycle.r_score, f_score, m_score).
SET client_min_messages = warning;
CREATE SCHEMA scores_test;  -- this script's tables, dropped at the end
SET search_path = scores_test;

-- The R package rfm's sample orders (995 customers, 4,906 orders), analysed
-- on 2006-12-31 as in the package's tests.
CREATE TABLE rfm_orders (customer_id text, order_date date, revenue numeric);
\copy rfm_orders FROM 'test/fixtures/rfm_data_orders.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE rfm_customers AS
SELECT customer_id, s,
       lifecycle.days_since_last_order(s, '2006-12-31') AS days_since_last_order
  FROM (SELECT customer_id, lifecycle.rfm_agg(order_date, revenue) AS s
          FROM rfm_orders GROUP BY customer_id) c;
SELECT count(*) AS customers, sum((s).orders) AS orders, sum((s).monetary) AS revenue
  FROM rfm_customers;

-- Method rfm_r, exactly R's rfm_table_order: the breaks are R's type-7
-- quantiles + 1.  The package's documentation quotes them rounded as
-- recency_bins = c(115, 181, 297, 482), frequency_bins = c(4, 5, 6, 8),
-- monetary_bins = c(256, 382, 506, 666).
SELECT (b).method, (b).r, (b).f, (b).m
  FROM (SELECT lifecycle.rfm_breaks(days_since_last_order, (s).orders, (s).monetary, 'rfm_r') AS b
          FROM rfm_customers) x;

-- Every customer's three scores equal the R package's, as printed in its
-- vignette (test/fixtures/rfm_package_scores.csv: rfm 0.2.2, the same
-- scoring code as 0.3.0; customers are matched on their distinct
-- (recency, orders, revenue)).
CREATE TABLE r_package (recency_days int, transaction_count int, amount numeric,
                        recency_score int, frequency_score int, monetary_score int, segment text);
\copy r_package FROM 'test/fixtures/rfm_package_scores.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE rfm_r_scores AS
SELECT c.*, lifecycle.r_score(days_since_last_order, b) AS r,
       lifecycle.f_score((s).orders, b) AS f, lifecycle.m_score((s).monetary, b) AS m
  FROM rfm_customers c,
       (SELECT lifecycle.rfm_breaks(days_since_last_order, (s).orders, (s).monetary, 'rfm_r') AS b
          FROM rfm_customers) x;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE p.recency_score = o.r) AS r_equal,
       count(*) FILTER (WHERE p.frequency_score = o.f) AS f_equal,
       count(*) FILTER (WHERE p.monetary_score = o.m) AS m_equal
  FROM r_package p
  JOIN rfm_r_scores o ON o.days_since_last_order = p.recency_days
                     AND (o.s).orders = p.transaction_count AND (o.s).monetary = p.amount;

-- Method quantile (the default): the breaks are percentile_cont's, to the bit.
CREATE TABLE q_breaks AS
SELECT lifecycle.rfm_breaks(days_since_last_order, (s).orders, (s).monetary) AS b
  FROM rfm_customers;
SELECT (b).method, (b).r, (b).f, (b).m FROM q_breaks;
SELECT (b).r = percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY days_since_last_order) AS r_equal,
       (b).f = percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY (s).orders) AS f_equal,
       (b).m = percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY (s).monetary) AS m_equal
  FROM rfm_customers, q_breaks GROUP BY b;

-- Its scores follow the definition, counted with plain SQL: F and M score
-- 1 + the breaks strictly below the value, R 1 + the breaks strictly above.
CREATE TABLE q_scores AS
SELECT c.*, lifecycle.r_score(days_since_last_order, b) AS r,
       lifecycle.f_score((s).orders, b) AS f, lifecycle.m_score((s).monetary, b) AS m, b
  FROM rfm_customers c, q_breaks;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE r = 1 + (SELECT count(*) FROM unnest((b).r) x WHERE x > days_since_last_order)) AS r_by_definition,
       count(*) FILTER (WHERE f = 1 + (SELECT count(*) FROM unnest((b).f) x WHERE x < (s).orders)) AS f_by_definition,
       count(*) FILTER (WHERE m = 1 + (SELECT count(*) FROM unnest((b).m) x WHERE x < (s).monetary)) AS m_by_definition
  FROM q_scores;
-- Equal values always get equal scores.
SELECT (SELECT count(*) FROM (SELECT FROM q_scores GROUP BY days_since_last_order HAVING count(DISTINCT r) > 1) x) AS r_split,
       (SELECT count(*) FROM (SELECT FROM q_scores GROUP BY (s).orders HAVING count(DISTINCT f) > 1) x) AS f_split,
       (SELECT count(*) FROM (SELECT FROM q_scores GROUP BY (s).monetary HAVING count(DISTINCT m) > 1) x) AS m_split;
-- Customers per frequency score: orders are heavily tied (breaks 3, 4, 5, 7),
-- so score 1 is 1-3 orders, 2 is 4, 3 is 5, 4 is 6-7, 5 is 8 and more.
SELECT f, min((s).orders) AS min_orders, max((s).orders) AS max_orders, count(*) AS customers
  FROM q_scores GROUP BY f ORDER BY f;

-- Values are compared as the doubles numeric::float8 gives, to the last bit:
-- against four breaks equal to x::float8, x scores 1 by quantile (no break
-- strictly below it) and 5 by rfm_r (every break at or below it) only if it
-- converts to that very double.  200,000 numerics of every size and scale.
SELECT setseed(0.5);
CREATE TABLE numerics AS
SELECT round((random() - 0.3)::numeric * 10::numeric ^ (random() * 44 - 22)::int, (random() * 30)::int) AS x
  FROM generate_series(1, 100000)
UNION ALL
SELECT round(random()::numeric * 10::numeric ^ (1 + (random() * 17)::int), (random() * 4)::int)
  FROM generate_series(1, 100000);
SELECT count(*) AS numerics,
       count(*) FILTER (WHERE lifecycle.m_score(x, ROW('quantile', NULL, NULL, array_fill(x::float8, ARRAY[4]))::lifecycle.rfm_breaks) = 1
                          AND lifecycle.m_score(x, ROW('rfm_r', NULL, NULL, array_fill(x::float8, ARRAY[4]))::lifecycle.rfm_breaks) = 5)
         AS same_double
  FROM numerics;

-- A heavily tied metric skips scores rather than splitting equal values:
-- eight customers with 1 order and two with 5 score 1 and 5, nothing between.
SELECT x AS orders, lifecycle.f_score(x, b) AS f
  FROM unnest(ARRAY[1, 1, 1, 1, 1, 1, 1, 1, 5, 5]) x,
       (SELECT lifecycle.rfm_breaks(0, y, y) AS b
          FROM unnest(ARRAY[1, 1, 1, 1, 1, 1, 1, 1, 5, 5]) y) z
 GROUP BY x, b ORDER BY x;

-- Frequency by purchase days instead of orders: several orders on one day
-- count once.
SELECT (lifecycle.rfm_breaks(days_since_last_order, (s).purchase_days, (s).monetary)).f
  FROM rfm_customers;

-- Customers without a purchase (only refunds) are not scored: NULL recency.
SELECT (b).r, (b).f
  FROM (SELECT lifecycle.rfm_breaks(r, f, m) AS b
          FROM (VALUES (NULL::int, 0::numeric, -10::numeric), (10, 1, 5), (20, 2, 7), (30, 3, 9)) v(r, f, m)) x;
-- A population with no purchase at all has no breaks.
SELECT lifecycle.rfm_breaks(NULL::int, 1, 1) IS NULL AS no_breaks;

-- Method ntile ranks the population with window functions; its breaks are
-- NULL and the score functions point to the window form.  Recency is ranked
-- with the most days first so that recent customers score 5; ties are broken
-- by the customer key.
SELECT (lifecycle.rfm_breaks(days_since_last_order, (s).orders, (s).monetary, 'ntile')).*
  FROM rfm_customers;
SELECT r, count(*) AS customers, min(days_since_last_order), max(days_since_last_order)
  FROM (SELECT days_since_last_order,
               ntile(5) OVER (ORDER BY days_since_last_order DESC, customer_id) AS r
          FROM rfm_customers) x
 GROUP BY r ORDER BY r;
SELECT lifecycle.f_score(3, (SELECT lifecycle.rfm_breaks(1, 1, 1, 'ntile')));

-- Breaks can be written by hand, e.g. R's custom thresholds.
SELECT lifecycle.r_score(200, b) AS r, lifecycle.f_score(6, b) AS f, lifecycle.m_score(700, b) AS m
  FROM (SELECT ROW('rfm_r', ARRAY[115, 181, 297, 482], ARRAY[4, 5, 6, 8],
                   ARRAY[256, 382, 506, 666])::lifecycle.rfm_breaks AS b) x;

-- Parallel plans give the same breaks as a serial one.
CREATE TABLE population AS
SELECT i AS customer, ((i * 7919) % 1000)::int AS days, ((i * 31) % 17)::numeric AS frequency,
       (i * 104729 % 100000 / 100.0)::numeric AS monetary
  FROM generate_series(1::bigint, 200000) i;
ANALYZE population;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE serial_breaks AS
SELECT lifecycle.rfm_breaks(days, frequency, monetary, 'rfm_r') AS rfm_r,
       lifecycle.rfm_breaks(days, frequency, monetary) AS quantile
  FROM population;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 4;
CREATE FUNCTION plan_has(query text, node text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    IF line LIKE '%' || node || '%' THEN
      RETURN true;
    END IF;
  END LOOP;
  RETURN false;
END
$$;
SELECT plan_has('SELECT lifecycle.rfm_breaks(days, frequency, monetary, ''rfm_r'') FROM population',
                'Partial Aggregate') AS parallel_plan;
SELECT lifecycle.rfm_breaks(days, frequency, monetary, 'rfm_r') = (SELECT rfm_r FROM serial_breaks) AS rfm_r_same,
       lifecycle.rfm_breaks(days, frequency, monetary) = (SELECT quantile FROM serial_breaks) AS quantile_same
  FROM population;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- Errors.
SELECT lifecycle.rfm_breaks(1, 1, 1, 'decile');
SELECT lifecycle.rfm_breaks(1, 1, 1, NULL);
SELECT lifecycle.rfm_breaks(r, 1, 1, CASE WHEN r = 1 THEN 'quantile' ELSE 'rfm_r' END)
  FROM (VALUES (1), (2)) v(r);
SELECT lifecycle.rfm_breaks(1, 'NaN', 1);
SELECT lifecycle.m_score('Infinity', (SELECT b FROM q_breaks));
SELECT lifecycle.f_score(1, ROW('quantile', NULL, ARRAY[1, 2, 3], NULL)::lifecycle.rfm_breaks);
SELECT lifecycle.f_score(1, ROW('quantile', NULL, ARRAY[4, 3, 2, 1], NULL)::lifecycle.rfm_breaks);
SELECT lifecycle.f_score(1, ROW('quantile', NULL, ARRAY[1, NULL, 3, 4], NULL)::lifecycle.rfm_breaks);
SELECT lifecycle.f_score(1, ROW('median', NULL, ARRAY[1, 2, 3, 4], NULL)::lifecycle.rfm_breaks);
-- A metric without breaks scores NULL.
SELECT lifecycle.m_score(1, ROW('quantile', NULL, ARRAY[1, 2, 3, 4], NULL)::lifecycle.rfm_breaks) AS m;


RESET search_path;
DROP SCHEMA scores_test CASCADE;
