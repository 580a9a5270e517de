-- Retention metrics, per-stage and per-segment summaries and stage
-- transitions, read from an orders relation.  Every figure is recomputed here
-- with plain SQL from its definition and compared.
SET client_min_messages = warning;
CREATE SCHEMA metrics_test;  -- this script's tables, dropped at the end
SET search_path = metrics_test;
SET DateStyle = ISO;

-- CDNOW (Fader, Hardie & Lee 2005): 2,357 customers, 1997-01 to 1998-06.
CREATE TABLE cdnow_lines (line text);
\copy cdnow_lines FROM 'test/fixtures/CDNOW_sample.txt'
CREATE TABLE cdnow AS
SELECT f[2]::int AS customer, to_date(f[3], 'YYYYMMDD') AS day, f[5]::numeric AS dollars
  FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM cdnow_lines) s;

-- The stage rules of PRODUCT.md section 3 with the default thresholds,
-- stated again in plain SQL from a customer's purchase days.
CREATE FUNCTION hand_stage(n bigint, first date, previous date, last date, as_of date)
  RETURNS text LANGUAGE sql IMMUTABLE
  RETURN CASE
    WHEN n IS NULL OR n = 0 THEN 'prospect'
    WHEN as_of - last > 270 THEN 'churned'
    WHEN as_of - last > 180 THEN 'dormant'
    WHEN as_of - last > 90 THEN 'at_risk'
    WHEN n >= 2 AND last - previous > 270 THEN 'reactivated'
    WHEN n = 1 THEN 'new'
    WHEN as_of - last > greatest(3 * (last - first)::numeric / (n - 1), 30) THEN 'at_risk'
    ELSE 'active'
  END;
-- Each customer's purchase days and revenue up to an as-of date, plainly.
CREATE FUNCTION hand_customers(as_of date)
  RETURNS TABLE (customer int, n bigint, first date, previous date, last date,
                 orders bigint, revenue numeric)
  LANGUAGE sql STABLE AS $$
  SELECT c.customer,
         count(DISTINCT c.day) FILTER (WHERE c.dollars >= 0),
         min(c.day) FILTER (WHERE c.dollars >= 0),
         (array_agg(DISTINCT c.day ORDER BY c.day DESC) FILTER (WHERE c.dollars >= 0))[2],
         max(c.day) FILTER (WHERE c.dollars >= 0),
         count(*) FILTER (WHERE c.dollars >= 0),
         sum(c.dollars)
    FROM cdnow c WHERE c.day <= as_of GROUP BY c.customer
$$;

-- Retention metrics over the first quarter of 1997, [1997-01-01, 1997-04-01).
SELECT * FROM lifecycle.retention_metrics('cdnow', 'customer', 'day', 'dollars',
                                          '1997-01-01', '1997-04-01');
-- The same from their definitions: customers = distinct buyers, orders =
-- purchase rows, revenue = their value, repeat customers = 2+ orders;
-- customer value = purchase frequency x AOV = revenue / customers; the rate
-- in percent and the averages rounded to 2 decimals.
WITH o AS (SELECT * FROM cdnow WHERE day >= '1997-01-01' AND day < '1997-04-01' AND dollars >= 0),
     per AS (SELECT customer, count(*) AS n FROM o GROUP BY customer),
     base AS (SELECT (SELECT count(*) FROM per) AS customers, (SELECT count(*) FROM o) AS orders,
                     (SELECT sum(dollars) FROM o) AS revenue,
                     (SELECT count(*) FROM per WHERE n >= 2) AS repeat_customers)
SELECT m = ROW(b.customers, b.orders, b.revenue, b.repeat_customers,
               round(100.0 * b.repeat_customers / b.customers, 2), round(b.orders::numeric / b.customers, 2),
               round(b.revenue / b.orders, 2), round(b.revenue / b.customers, 2),
               0, 0, b.revenue)::lifecycle.retention AS q1_matches_definitions
  FROM base b,
       lifecycle.retention_metrics('cdnow', 'customer', 'day', 'dollars', '1997-01-01', '1997-04-01') m;
-- A later quarter, where only returning customers buy, and the whole history.
WITH periods(f, t) AS (VALUES (date '1997-10-01', date '1998-01-01'), ('1997-01-01', '1998-07-01')),
     hand AS (SELECT p.f, count(DISTINCT c.customer) AS customers, count(*) AS orders, sum(c.dollars) AS revenue,
                     (SELECT count(*) FROM (SELECT FROM cdnow c2 WHERE c2.day >= p.f AND c2.day < p.t
                                            GROUP BY c2.customer HAVING count(*) >= 2) r) AS repeat_customers
                FROM periods p JOIN cdnow c ON c.day >= p.f AND c.day < p.t AND c.dollars >= 0
               GROUP BY p.f, p.t)
SELECT p.f AS period_from, p.t AS period_to, m.customers, m.orders, m.revenue, m.repeat_customers,
       m.repeat_purchase_rate_pct, m.purchase_frequency, m.aov, m.customer_value,
       (m.customers, m.orders, m.revenue, m.repeat_customers) = (h.customers, h.orders, h.revenue, h.repeat_customers)
         AND m.repeat_purchase_rate_pct = round(100.0 * h.repeat_customers / h.customers, 2)
         AND m.purchase_frequency = round(h.orders::numeric / h.customers, 2)
         AND m.aov = round(h.revenue / h.orders, 2) AND m.customer_value = round(h.revenue / h.customers, 2) AS matches
  FROM periods p JOIN hand h USING (f),
       LATERAL lifecycle.retention_metrics('cdnow', 'customer', 'day', 'dollars', p.f, p.t) m
 ORDER BY p.f, p.t;

-- Refunds, unknown amounts, guests and time zones, on a timestamptz table.
CREATE TABLE shop (customer text, at timestamptz, amount numeric);
INSERT INTO shop VALUES
  ('a', '2024-01-31 23:30+00', 100),   -- 2024-02-01 08:30 in Tokyo
  ('a', '2024-02-10 10:00+00', 50),
  ('b', '2024-02-05 12:00+00', 80),
  ('b', '2024-02-06 12:00+00', -30),   -- a refund: not an order, not revenue
  ('c', '2024-02-29 20:00+00', NULL),  -- unknown value: an order worth nothing known; 2024-03-01 in Tokyo
  (NULL, '2024-02-15 12:00+00', 999),  -- a guest checkout: no customer
  ('d', NULL, 10);                     -- no order time: ignored
-- February in UTC: a (1 order), b (1), c (1): 3 customers, 3 orders,
-- revenue 130, no repeat customer, 30 refunded, net 100.
SELECT * FROM lifecycle.retention_metrics('shop', 'customer', 'at', 'amount', '2024-02-01', '2024-03-01');
-- February in Tokyo: a (2 orders), b (1): 2 customers, 3 orders, revenue 230,
-- 1 repeat customer (rate 0.5), frequency 1.5, AOV 230/3, customer value 115.
SELECT * FROM lifecycle.retention_metrics('shop', 'customer', 'at', 'amount', '2024-02-01', '2024-03-01', 'Asia/Tokyo');
-- The session's TimeZone changes nothing.
CREATE TABLE tokyo AS
SELECT * FROM lifecycle.retention_metrics('shop', 'customer', 'at', 'amount', '2024-02-01', '2024-03-01', 'Asia/Tokyo');
SET TimeZone = 'America/Los_Angeles';
SELECT m = t AS same_in_any_session_zone
  FROM lifecycle.retention_metrics('shop', 'customer', 'at', 'amount', '2024-02-01', '2024-03-01', 'Asia/Tokyo') m,
       tokyo t;
RESET TimeZone;
-- An empty period: no customers, no rates.
SELECT * FROM lifecycle.retention_metrics('shop', 'customer', 'at', 'amount', '2020-01-01', '2020-01-01');

-- Customers per stage on 1997-09-30 (the end of CDNOW's calibration period):
-- count, share and net revenue to date, against the rules in plain SQL.
SELECT * FROM lifecycle.stage_metrics('cdnow', 'customer', 'day', 'dollars', '1997-09-30');
SELECT s.stage, s.customers = h.customers AS customers_match, s.revenue = h.revenue AS revenue_match,
       s.share_pct = round(100.0 * h.customers / (SELECT count(DISTINCT customer) FROM cdnow WHERE day <= '1997-09-30'), 2) AS share_match
  FROM lifecycle.stage_metrics('cdnow', 'customer', 'day', 'dollars', '1997-09-30') s
  FULL JOIN (SELECT hand_stage(n, first, previous, last, '1997-09-30') AS stage, count(*) AS customers,
                    sum(revenue) AS revenue
               FROM hand_customers('1997-09-30') GROUP BY 1) h ON h.stage = s.stage::text
 ORDER BY s.stage;

-- Stage transitions from 1997-06-30 to 1997-09-30, against the plain rules at
-- both dates (no order by the earlier date: a prospect then).
SELECT * FROM lifecycle.stage_transitions('cdnow', 'customer', 'day', 'dollars', '1997-06-30', '1997-09-30');
CREATE TABLE hand_transitions AS
SELECT coalesce(hand_stage(f.n, f.first, f.previous, f.last, '1997-06-30'), 'prospect') AS from_stage,
       hand_stage(t.n, t.first, t.previous, t.last, '1997-09-30') AS to_stage,
       t.customer, f.n AS from_n, t.n AS to_n, t.last AS to_last
  FROM hand_customers('1997-09-30') t LEFT JOIN hand_customers('1997-06-30') f USING (customer);
SELECT count(*) AS differences
  FROM ((SELECT from_stage::text, to_stage::text, customers
           FROM lifecycle.stage_transitions('cdnow', 'customer', 'day', 'dollars', '1997-06-30', '1997-09-30')
         EXCEPT
         SELECT from_stage, to_stage, count(*) FROM hand_transitions GROUP BY 1, 2)
        UNION ALL
        (SELECT from_stage, to_stage, count(*) FROM hand_transitions GROUP BY 1, 2
         EXCEPT
         SELECT from_stage::text, to_stage::text, customers
           FROM lifecycle.stage_transitions('cdnow', 'customer', 'day', 'dollars', '1997-06-30', '1997-09-30'))) d;

-- Churn, win-back and new-to-repeat rates.  Churn: of the customers neither
-- prospect nor churned at the start, the share churned at the end.  Win-back:
-- of those churned at the start, the share who bought again by the end.
-- New-to-repeat: of those new at the start, the share with two or more
-- purchase days at the end.  CDNOW's customers all arrived in the first
-- quarter of 1997: at the end of February many are new and none churned;
-- by the end of 1997 most have churned and none is new.
SELECT * FROM lifecycle.transition_rates('cdnow', 'customer', 'day', 'dollars', '1997-02-28', '1997-09-30');
SELECT * FROM lifecycle.transition_rates('cdnow', 'customer', 'day', 'dollars', '1997-12-31', '1998-06-30');
CREATE FUNCTION hand_rates(from_date date, to_date date) RETURNS TABLE (
    churn_base bigint, churned bigint, churn_rate_pct numeric, win_back_base bigint, won_back bigint,
    win_back_rate_pct numeric, new_base bigint, converted bigint, new_to_repeat_rate_pct numeric)
  LANGUAGE sql STABLE AS $$
  SELECT k.a, k.b, round(100.0 * k.b / nullif(k.a, 0), 2), k.c, k.d, round(100.0 * k.d / nullif(k.c, 0), 2),
         k.e, k.f, round(100.0 * k.f / nullif(k.e, 0), 2)
    FROM (SELECT count(*) FILTER (WHERE from_stage NOT IN ('prospect', 'churned')) AS a,
                 count(*) FILTER (WHERE from_stage NOT IN ('prospect', 'churned') AND to_stage = 'churned') AS b,
                 count(*) FILTER (WHERE from_stage = 'churned') AS c,
                 count(*) FILTER (WHERE from_stage = 'churned' AND to_last > from_date) AS d,
                 count(*) FILTER (WHERE from_stage = 'new') AS e,
                 count(*) FILTER (WHERE from_stage = 'new' AND to_n >= 2) AS f
            FROM (SELECT coalesce(hand_stage(f.n, f.first, f.previous, f.last, from_date), 'prospect') AS from_stage,
                         hand_stage(t.n, t.first, t.previous, t.last, to_date) AS to_stage,
                         t.n AS to_n, t.last AS to_last
                    FROM hand_customers(to_date) t LEFT JOIN hand_customers(from_date) f USING (customer)) h) k
$$;
SELECT w.f AS from_date, w.t AS to_date, (r.*) = (h.*) AS rates_match_definitions
  FROM (VALUES (date '1997-02-28', date '1997-09-30'), ('1997-12-31', '1998-06-30')) w(f, t),
       LATERAL lifecycle.transition_rates('cdnow', 'customer', 'day', 'dollars', w.f, w.t) r,
       LATERAL hand_rates(w.f, w.t) h;

-- Segments of CDNOW on 1997-09-30 by the default method (quantile) and rules,
-- against a plain-SQL scoring: percentile_cont breaks, the score definitions,
-- and the first matching rule of lifecycle.segment_rules.
SELECT * FROM lifecycle.segment_metrics('cdnow', 'customer', 'day', 'dollars', '1997-09-30');
WITH c AS (SELECT customer, '1997-09-30' - last AS r, orders AS f, revenue AS m FROM hand_customers('1997-09-30')),
     b AS (SELECT percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY r) AS rb,
                  percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY f) AS fb,
                  percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY m) AS mb FROM c),
     s AS (SELECT c.*, 1 + (SELECT count(*) FROM unnest(rb) x WHERE x > c.r) AS rs,
                  1 + (SELECT count(*) FROM unnest(fb) x WHERE x < c.f) AS fs,
                  1 + (SELECT count(*) FROM unnest(mb) x WHERE x < c.m) AS ms
             FROM c, b),
     named AS (SELECT s.*, coalesce((SELECT g.segment FROM lifecycle.segment_rules g
                                      WHERE g.rule_set = 'default'
                                        AND s.rs BETWEEN g.r_min AND g.r_max
                                        AND s.fs BETWEEN g.f_min AND g.f_max
                                        AND s.ms BETWEEN g.m_min AND g.m_max
                                      ORDER BY g.position LIMIT 1), 'Others') AS segment
                 FROM s),
     hand AS (SELECT segment, count(*) AS customers, sum(f) AS orders, sum(m) AS revenue FROM named GROUP BY segment)
SELECT count(*) AS segments,
       count(*) FILTER (WHERE (m.customers, m.orders, m.revenue) = (h.customers, h.orders, h.revenue)) AS matching
  FROM lifecycle.segment_metrics('cdnow', 'customer', 'day', 'dollars', '1997-09-30') m
  FULL JOIN hand h USING (segment);
-- The ntile method, against the window form written out.
WITH c AS (SELECT customer, '1997-09-30' - last AS r, orders AS f, revenue AS m FROM hand_customers('1997-09-30')),
     s AS (SELECT c.*, ntile(5) OVER (ORDER BY r DESC, customer) AS rs,
                  ntile(5) OVER (ORDER BY f, customer) AS fs,
                  ntile(5) OVER (ORDER BY m, customer) AS ms FROM c),
     hand AS (SELECT map.segment, count(*) AS customers, sum(s.f) AS orders, sum(s.m) AS revenue
                FROM s JOIN lifecycle.segment_map('classic') map ON (map.r, map.f, map.m) = (s.rs, s.fs, s.ms)
               GROUP BY map.segment)
SELECT count(*) AS segments,
       count(*) FILTER (WHERE (m.customers, m.orders, m.revenue) = (h.customers, h.orders, h.revenue)) AS matching
  FROM lifecycle.segment_metrics('cdnow', 'customer', 'day', 'dollars', '1997-09-30', 'ntile', 'classic') m
  FULL JOIN hand h USING (segment);
-- The R package's check through segment_metrics: Champions = 158 customers,
-- 1,234 orders, revenue 120,178 (rfm_r scores, classic rules).
CREATE TABLE rfm_orders (customer_id text, order_date date, revenue numeric);
\copy rfm_orders FROM 'test/fixtures/rfm_data_orders.csv' WITH (FORMAT csv, HEADER)
SELECT * FROM lifecycle.segment_metrics('rfm_orders', 'customer_id', 'order_date', 'revenue',
                                        '2006-12-31', 'rfm_r', 'classic')
 WHERE segment = 'Champions';

-- Errors: names are checked, bounds too.
SELECT * FROM lifecycle.retention_metrics('no_such_table', 'customer', 'day', 'dollars', '1997-01-01', '1997-04-01');
SELECT * FROM lifecycle.retention_metrics('cdnow', 'client', 'day', 'dollars', '1997-01-01', '1997-04-01');
SELECT * FROM lifecycle.retention_metrics('cdnow', 'customer', 'dollars', 'dollars', '1997-01-01', '1997-04-01');
SELECT * FROM lifecycle.retention_metrics('cdnow', 'customer', 'day', 'day', '1997-01-01', '1997-04-01');
SELECT * FROM lifecycle.retention_metrics('cdnow', 'customer', 'day', 'dollars', '1997-04-01', '1997-01-01');
SELECT * FROM lifecycle.retention_metrics('cdnow', 'customer', 'day', 'dollars', NULL, '1997-01-01');
SELECT * FROM lifecycle.retention_metrics('shop', 'customer', 'at', 'amount', '2024-02-01', '2024-03-01', 'Mars/Olympus');
SELECT * FROM lifecycle.stage_transitions('cdnow', 'customer', 'day', 'dollars', '1997-06-30', '1997-09-30', churn_days => 10);
SELECT * FROM lifecycle.segment_metrics('cdnow', 'customer', 'day', 'dollars', '1997-09-30', 'decile');
SELECT * FROM lifecycle.segment_metrics('cdnow', 'customer', 'day', 'dollars', '1997-09-30', frequency => 'visits');
SELECT * FROM lifecycle.segment_metrics('cdnow', 'customer', 'day', 'dollars', '1997-09-30', rule_set => 'nope');
-- A quoted name reaches the SQL as a name, never as code.
CREATE TABLE "odd ""name""" ("cust; DROP TABLE cdnow" int, "when" date, "amt" numeric);
INSERT INTO "odd ""name""" VALUES (1, '2024-01-01', 5), (1, '2024-01-02', 7);
SELECT customers, orders, revenue
  FROM lifecycle.retention_metrics('"odd ""name"""', 'cust; DROP TABLE cdnow', 'when', 'amt', '2024-01-01', '2024-02-01');
SELECT count(*) AS cdnow_rows FROM cdnow;


RESET search_path;
DROP SCHEMA metrics_test CASCADE;
