-- lifecycle._customer_facts, the one pass behind segment views: row for row
-- the numbers of rfm_agg with GROUP BY and the SQL functions (days_since_last_order,
-- tenure_days, mean_interval_days, aov, btyd, stage), for every order-time
-- type, key types, row orders that fill its batches with one customer (whose
-- state grows and moves mid-batch) or scatter them, prospects, refunds-only
-- customers, NULL amounts, orders after the as-of day and row security; and
-- every refused call with its SQLSTATE.
BEGIN;
SELECT plan(24);
SET LOCAL client_min_messages = warning;

-- 300 customers with 40 order rows each, spread over up to four years at
-- times around midnight UTC (so the zone moves days), with NULL amounts and
-- refunds; a refunds-only customer; rows without a customer or a time.
CREATE TABLE by_customer (customer bigint, t timestamptz, amount numeric(10,2));
INSERT INTO by_customer
SELECT c, timestamptz '2022-01-01 22:30+00' + (i * (c % 37 + 1)) * interval '1 day' + (i % 5) * interval '3 hours',
       CASE WHEN i % 17 = 0 THEN NULL WHEN i % 11 = 0 THEN -(i % 7) ELSE (c % 13) * 1.25 + i END
  FROM generate_series(1, 300) c, generate_series(1, 40) i
 ORDER BY c, i;
INSERT INTO by_customer VALUES (1000, '2024-05-05 12:00+00', -10), (NULL, '2024-01-01', 5), (1001, NULL, 5);
-- The same rows scattered.
CREATE TABLE scattered AS SELECT * FROM by_customer ORDER BY md5(row(customer, t, amount)::text);

-- The facts as the function gives them, keys of any type (as text).
CREATE FUNCTION pg_temp.facts(orders regclass, key_type text, zone text, unit text,
                              customers regclass DEFAULT NULL, customers_key name DEFAULT NULL)
  RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT customer::text, first_purchase, last_purchase, previous_purchase, orders, purchase_days,
           monetary, gross, refunds, refunded, days_since_last_order, tenure_days, mean_interval_days,
           aov, btyd_frequency, btyd_recency, btyd_t, btyd_monetary_value, stage
      FROM lifecycle._customer_facts(%L, 'customer', 't', 'amount', %L, %L, %L, '2025-06-30', %L,
                                     90, 180, 270, 3.0, 30, 'quantile', 'orders', false, 90, 4, 91, 0.025)
        AS f(customer %s, first_purchase date, last_purchase date, previous_purchase date,
             orders bigint, purchase_days integer, monetary numeric, gross numeric, refunds bigint,
             refunded numeric, days_since_last_order integer, tenure_days integer,
             mean_interval_days numeric, aov numeric, btyd_frequency integer,
             btyd_recency double precision, btyd_t double precision, btyd_monetary_value numeric,
             stage lifecycle.stage, frequency bigint, r_score integer, f_score integer, m_score integer, p_alive double precision, expected_purchases double precision, expected_spend double precision, clv double precision)$q$,
    orders, customers, customers_key, zone, unit, key_type);
END $$;

-- The same facts from rfm_agg, GROUP BY and the SQL functions.
CREATE FUNCTION pg_temp.expected(query text, unit text) RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT customer::text, (s).first_purchase, (s).last_purchase, (s).previous_purchase, (s).orders,
           (s).purchase_days, (s).monetary, (s).gross, (s).refunds, (s).refunded,
           lifecycle.days_since_last_order(s, '2025-06-30'), lifecycle.tenure_days(s, '2025-06-30'),
           lifecycle.mean_interval_days(s), lifecycle.aov(s), (b).frequency, (b).recency, (b).t,
           (b).monetary_value, lifecycle.stage(s, '2025-06-30')
      FROM (SELECT customer, s, lifecycle.btyd(s, '2025-06-30', %L) AS b FROM (%s) q) r$q$, unit, query);
END $$;

\set cols 'customer text, first_purchase date, last_purchase date, previous_purchase date, orders bigint, purchase_days integer, monetary numeric, gross numeric, refunds bigint, refunded numeric, days_since_last_order integer, tenure_days integer, mean_interval_days numeric, aov numeric, btyd_frequency integer, btyd_recency double precision, btyd_t double precision, btyd_monetary_value numeric, stage lifecycle.stage'

SELECT set_eq(format('SELECT * FROM pg_temp.facts(%L, %L, %L, %L) AS (%s)', 'by_customer', 'bigint', 'America/New_York', 'day', :'cols'),
              format('SELECT * FROM pg_temp.expected(%L, %L) AS (%s)',
                     $$SELECT customer, lifecycle.rfm_agg(t, amount, 'America/New_York') s FROM by_customer
                        WHERE customer IS NOT NULL AND t < timestamp '2025-07-01' AT TIME ZONE 'America/New_York' GROUP BY customer$$,
                     'day', :'cols'),
              'timestamptz in America/New_York, rows grouped by customer (states move mid-batch): the SQL functions'' facts');
SELECT set_eq(format('SELECT * FROM pg_temp.facts(%L, %L, %L, %L) AS (%s)', 'scattered', 'bigint', 'Asia/Tokyo', 'week', :'cols'),
              format('SELECT * FROM pg_temp.expected(%L, %L) AS (%s)',
                     $$SELECT customer, lifecycle.rfm_agg(t, amount, 'Asia/Tokyo') s FROM scattered
                        WHERE customer IS NOT NULL AND t < timestamp '2025-07-01' AT TIME ZONE 'Asia/Tokyo' GROUP BY customer$$,
                     'week', :'cols'),
              'timestamptz in Asia/Tokyo, rows scattered, BTYD in weeks: the SQL functions'' facts');
SELECT is((SELECT count(*) FROM pg_temp.facts('scattered', 'bigint', 'UTC', 'day') AS (:cols)), 301::bigint,
          '301 customers: the refunds-only one included, rows without a customer or a time left out');
SELECT is((SELECT row(orders, purchase_days, monetary, refunds, stage)::text
             FROM pg_temp.facts('scattered', 'bigint', 'UTC', 'day') AS (:cols) WHERE customer = '1000'),
          '(0,0,-10.00,1,prospect)', 'a refunds-only customer: no purchase day, net -10, a prospect');

-- Totals beyond 64-bit integers, in rows grouped by customer: states that
-- hold big totals grow and move mid-batch.
CREATE TABLE big_money AS
SELECT c::bigint AS customer, timestamptz '2022-01-01 12:00+00' + (i * (c % 29 + 1)) * interval '1 day' AS t,
       CASE WHEN i % 7 = 0 THEN 1e25 + i WHEN i % 11 = 0 THEN -1e20 - i ELSE 1.25 * i END AS amount
  FROM generate_series(1, 60) c, generate_series(1, 40) i
 ORDER BY c, i;
SELECT set_eq(format('SELECT * FROM pg_temp.facts(%L, %L, %L, %L) AS (%s)', 'big_money', 'bigint', 'UTC', 'day', :'cols'),
              format('SELECT * FROM pg_temp.expected(%L, %L) AS (%s)',
                     $$SELECT customer, lifecycle.rfm_agg(t, amount) s FROM big_money
                        WHERE t < timestamptz '2025-07-01 00:00+00' GROUP BY customer$$,
                     'day', :'cols'),
              'totals beyond 64-bit integers, states moving mid-batch: the SQL functions'' facts');
SELECT is((SELECT sum(monetary)::text FROM pg_temp.facts('big_money', 'bigint', 'UTC', 'day') AS (:cols)),
          (SELECT sum(amount)::text FROM big_money WHERE t < timestamptz '2025-07-01 00:00+00'),
          'the same: net monetary adds up to the built-in sum of the amounts');

-- timestamp and date order times, text keys, through views.
CREATE VIEW local_times AS SELECT 'c' || customer AS customer, t AT TIME ZONE 'Europe/Paris' AS t, amount FROM scattered;
CREATE VIEW order_dates AS SELECT customer, (t AT TIME ZONE 'UTC')::date AS t, amount FROM by_customer;
SELECT set_eq(format('SELECT * FROM pg_temp.facts(%L, %L, %L, %L) AS (%s)', 'local_times', 'text', 'UTC', 'day', :'cols'),
              format('SELECT * FROM pg_temp.expected(%L, %L) AS (%s)',
                     $$SELECT customer, lifecycle.rfm_agg(t, amount) s FROM local_times
                        WHERE customer IS NOT NULL AND t < timestamp '2025-07-01' GROUP BY customer$$, 'day', :'cols'),
              'timestamp order times and text keys, read through a view: the SQL functions'' facts');
SELECT set_eq(format('SELECT * FROM pg_temp.facts(%L, %L, %L, %L) AS (%s)', 'order_dates', 'bigint', 'UTC', 'day', :'cols'),
              format('SELECT * FROM pg_temp.expected(%L, %L) AS (%s)',
                     $$SELECT customer, lifecycle.rfm_agg(t, amount) s FROM order_dates
                        WHERE customer IS NOT NULL AND t < date '2025-07-01' GROUP BY customer$$, 'day', :'cols'),
              'date order times: the SQL functions'' facts');

-- Prospects: keys of a customers relation (integer, cast to the orders' bigint).
CREATE TABLE known (id integer);
INSERT INTO known VALUES (1), (2), (5000), (5001), (NULL);
SELECT is((SELECT count(*) FROM pg_temp.facts('scattered', 'bigint', 'UTC', 'day', 'known', 'id') AS (:cols)), 303::bigint,
          'customers relation: its two keys without orders added, NULL keys left out');
SELECT is((SELECT array_agg(row(customer, orders, first_purchase, stage)::text ORDER BY customer)
             FROM pg_temp.facts('scattered', 'bigint', 'UTC', 'day', 'known', 'id') AS (:cols) WHERE customer::bigint >= 5000),
          ARRAY['(5000,,,prospect)', '(5001,,,prospect)'], 'a customer without orders: no facts, a prospect');

-- Scores: lifecycle.rfm_breaks and r_score/f_score/m_score over the customers
-- with purchase days, for each method with breaks and frequency basis; none
-- for a customer without a purchase day (the refunds-only one) and none
-- under ntile (the view ranks with windows).
CREATE FUNCTION pg_temp.scored(method text, basis text)
  RETURNS TABLE (customer bigint, recency integer, frequency bigint, monetary numeric, orders bigint,
                 purchase_days integer, r integer, f integer, m integer) LANGUAGE sql AS $$
  SELECT customer, days_since_last_order, frequency, monetary, orders, purchase_days, r_score, f_score, m_score
    FROM lifecycle._customer_facts('by_customer', 'customer', 't', 'amount', NULL, NULL, 'UTC', '2025-06-30', 'day',
                                   90, 180, 270, 3.0, 30, method, basis, false, 90, 4, 91, 0.025)
      AS f(customer bigint, first_purchase date, last_purchase date, previous_purchase date,
           orders bigint, purchase_days integer, monetary numeric, gross numeric, refunds bigint,
           refunded numeric, days_since_last_order integer, tenure_days integer,
           mean_interval_days numeric, aov numeric, btyd_frequency integer,
           btyd_recency double precision, btyd_t double precision, btyd_monetary_value numeric,
           stage lifecycle.stage, frequency bigint, r_score integer, f_score integer, m_score integer, p_alive double precision, expected_purchases double precision, expected_spend double precision, clv double precision)
$$;
CREATE FUNCTION pg_temp.scores_agree(method text, basis text) RETURNS boolean LANGUAGE sql AS $$
  WITH s AS (SELECT * FROM pg_temp.scored(method, basis)),
       k AS (SELECT lifecycle.rfm_breaks(recency, frequency, monetary, method) AS b FROM s)
  SELECT bool_and(CASE WHEN s.recency IS NULL THEN s.r IS NULL AND s.f IS NULL AND s.m IS NULL
                       ELSE row(s.r, s.f, s.m) =
                            row(lifecycle.r_score(s.recency, k.b), lifecycle.f_score(s.frequency, k.b),
                                lifecycle.m_score(s.monetary, k.b)) END
                  AND s.frequency = CASE basis WHEN 'orders' THEN s.orders ELSE s.purchase_days END)
         AND count(DISTINCT s.r) = 5
    FROM s, k
$$;
SELECT ok(pg_temp.scores_agree('quantile', 'orders'), 'quantile scores by orders: those of rfm_breaks and the score functions');
SELECT ok(pg_temp.scores_agree('quantile', 'purchase_days'), 'quantile scores by purchase days: the same');
SELECT ok(pg_temp.scores_agree('rfm_r', 'orders'), 'rfm_r scores: the same');
SELECT is((SELECT count(*) FROM pg_temp.scored('ntile', 'orders') WHERE r IS NOT NULL OR f IS NOT NULL OR m IS NOT NULL),
          0::bigint, 'ntile: no scores from the facts');
SELECT throws_ok($$SELECT * FROM pg_temp.scored('deciles', 'orders')$$, '22023', NULL, 'an unknown scoring method');

-- Purchase models: fitted over the customers' BTYD columns as bgnbd_fit and
-- gammagamma_fit fit them, and each customer predicted as p_alive,
-- expected_purchases, expected_spend and clv predict: CDNOW's orders (date
-- times, integer keys) up to 1997-09-30, in weeks, 13 weeks ahead, 4 periods
-- of 13 weeks at 2 %.
CREATE TEMP TABLE cdnow_lines (line text);
\copy cdnow_lines FROM 'test/fixtures/CDNOW_sample.txt'
CREATE TABLE cdnow AS
SELECT f[2]::integer AS customer, to_date(f[3], 'YYYYMMDD') AS t, f[5]::numeric AS amount
  FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM cdnow_lines) l;
CREATE TEMP TABLE predicted AS
SELECT * FROM lifecycle._customer_facts('cdnow', 'customer', 't', 'amount', NULL, NULL, 'UTC', '1997-09-30', 'week',
                                        90, 180, 270, 3.0, 30, 'quantile', 'orders', true, 91, 4, 91, 0.02)
  AS f(customer integer, first_purchase date, last_purchase date, previous_purchase date, orders bigint,
       purchase_days integer, monetary numeric, gross numeric, refunds bigint, refunded numeric,
       days_since_last_order integer, tenure_days integer, mean_interval_days numeric, aov numeric,
       btyd_frequency integer, btyd_recency double precision, btyd_t double precision,
       btyd_monetary_value numeric, stage lifecycle.stage, frequency bigint, r_score integer, f_score integer,
       m_score integer, p_alive double precision, expected_purchases double precision,
       expected_spend double precision, clv double precision);
CREATE TEMP TABLE fitted AS
SELECT lifecycle.bgnbd_fit(btyd_frequency, btyd_recency, btyd_t) AS purchases,
       lifecycle.gammagamma_fit(btyd_frequency, btyd_monetary_value::double precision) AS spend
  FROM predicted WHERE btyd_frequency IS NOT NULL;
SELECT ok((SELECT (purchases).converged AND (spend).converged AND (spend).q > 1 FROM fitted),
          'CDNOW fits both models');
SELECT is((SELECT count(*) FROM predicted p, fitted f
            WHERE row(p.p_alive, p.expected_purchases, p.expected_spend, p.clv) IS DISTINCT FROM
                  row(lifecycle.p_alive(f.purchases, p.btyd_frequency, p.btyd_recency, p.btyd_t),
                      lifecycle.expected_purchases(f.purchases, p.btyd_frequency, p.btyd_recency, p.btyd_t, 13),
                      lifecycle.expected_spend(f.spend, p.btyd_frequency, p.btyd_monetary_value),
                      lifecycle.clv(f.purchases, f.spend, p.btyd_frequency, p.btyd_recency, p.btyd_t,
                                    p.btyd_monetary_value, 4, 13, 0.02))),
          0::bigint, 'every customer''s predictions: those of the SQL functions with the SQL fits, to the bit');
SELECT is((SELECT count(*) FILTER (WHERE p_alive IS NOT NULL) || ' of ' || count(*) FROM predicted), '2357 of 2357',
          'every CDNOW customer predicted');

-- Row security applies and privileges are the caller's (what the role gets
-- is kept in temp tables and checked after RESET ROLE).
CREATE FUNCTION pg_temp.sqlstate_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE query;
  RETURN 'none';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
CREATE ROLE lifecycle_facts_reader;
GRANT SELECT ON scattered TO lifecycle_facts_reader;
ALTER TABLE scattered ENABLE ROW LEVEL SECURITY;
CREATE POLICY small_customers ON scattered TO lifecycle_facts_reader USING (customer <= 10);
SET LOCAL ROLE lifecycle_facts_reader;
CREATE TEMP TABLE seen_under_rls AS SELECT count(*) AS customers FROM pg_temp.facts('scattered', 'bigint', 'UTC', 'day') AS (:cols);
CREATE TEMP TABLE seen_without_grant AS
SELECT pg_temp.sqlstate_of(format('SELECT count(*) FROM pg_temp.facts(%L, %L, %L, %L) AS (%s)', 'by_customer', 'bigint', 'UTC', 'day', :'cols')) AS state;
RESET ROLE;
SELECT is((SELECT customers FROM seen_under_rls), 10::bigint, 'row security: the function sees the rows the caller may see');
SELECT is((SELECT state FROM seen_without_grant), '42501', 'no SELECT on the orders: permission denied (42501)');

-- Refused calls.
SELECT throws_ok($$SELECT * FROM lifecycle._customer_facts('by_customer', 'nope', 't', 'amount', NULL, NULL, 'UTC', '2025-06-30', 'day', 90, 180, 270, 3.0, 30, 'quantile', 'orders', false, 90, 4, 91, 0.025) AS f(customer bigint, first_purchase date, last_purchase date, previous_purchase date, orders bigint, purchase_days integer, monetary numeric, gross numeric, refunds bigint, refunded numeric, days_since_last_order integer, tenure_days integer, mean_interval_days numeric, aov numeric, btyd_frequency integer, btyd_recency double precision, btyd_t double precision, btyd_monetary_value numeric, stage lifecycle.stage, frequency bigint, r_score integer, f_score integer, m_score integer, p_alive double precision, expected_purchases double precision, expected_spend double precision, clv double precision)$$,
                 '42703', 'column "nope" of relation "by_customer" does not exist', 'a missing column');
SELECT throws_ok($$SELECT * FROM lifecycle._customer_facts('by_customer', 'customer', 't', 'amount', NULL, NULL, 'UTC', '2025-06-30', 'day', 90, 180, 270, 3.0, 30, 'quantile', 'orders', false, 90, 4, 91, 0.025) AS f(customer integer, first_purchase date, last_purchase date, previous_purchase date, orders bigint, purchase_days integer, monetary numeric, gross numeric, refunds bigint, refunded numeric, days_since_last_order integer, tenure_days integer, mean_interval_days numeric, aov numeric, btyd_frequency integer, btyd_recency double precision, btyd_t double precision, btyd_monetary_value numeric, stage lifecycle.stage, frequency bigint, r_score integer, f_score integer, m_score integer, p_alive double precision, expected_purchases double precision, expected_spend double precision, clv double precision)$$,
                 '42804', 'column 1 of the column definition list is "customer" integer; the customer facts have "customer" bigint there', 'a column list of other types');
CREATE TABLE point_keys (customer point, t timestamptz, amount numeric);
SELECT throws_ok($$SELECT * FROM lifecycle._customer_facts('point_keys', 'customer', 't', 'amount', NULL, NULL, 'UTC', '2025-06-30', 'day', 90, 180, 270, 3.0, 30, 'quantile', 'orders', false, 90, 4, 91, 0.025) AS f(customer point, first_purchase date, last_purchase date, previous_purchase date, orders bigint, purchase_days integer, monetary numeric, gross numeric, refunds bigint, refunded numeric, days_since_last_order integer, tenure_days integer, mean_interval_days numeric, aov numeric, btyd_frequency integer, btyd_recency double precision, btyd_t double precision, btyd_monetary_value numeric, stage lifecycle.stage, frequency bigint, r_score integer, f_score integer, m_score integer, p_alive double precision, expected_purchases double precision, expected_spend double precision, clv double precision)$$,
                 '42883', 'customer key type point cannot be hashed', 'a key type without hashing');
SELECT throws_ok($$SELECT * FROM lifecycle._customer_facts('by_customer', 'customer', 't', 'amount', NULL, NULL, 'UTC', '2025-06-30', 'day', 90, 80, 270, 3.0, 30, 'quantile', 'orders', false, 90, 4, 91, 0.025) AS f(customer bigint, first_purchase date, last_purchase date, previous_purchase date, orders bigint, purchase_days integer, monetary numeric, gross numeric, refunds bigint, refunded numeric, days_since_last_order integer, tenure_days integer, mean_interval_days numeric, aov numeric, btyd_frequency integer, btyd_recency double precision, btyd_t double precision, btyd_monetary_value numeric, stage lifecycle.stage, frequency bigint, r_score integer, f_score integer, m_score integer, p_alive double precision, expected_purchases double precision, expected_spend double precision, clv double precision)$$,
                 '22023', 'stage thresholds must satisfy active_days <= dormant_days <= churn_days', 'thresholds out of order');

SELECT * FROM finish();
ROLLBACK;
