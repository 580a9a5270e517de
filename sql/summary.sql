-- The customer summary aggregate, lifecycle.rfm_agg, and what derives from it.
SET client_min_messages = warning;
SET DateStyle = ISO;

-- A small store: order times as timestamptz, amounts as numeric.
CREATE TABLE orders (customer text, ordered_at timestamptz, amount numeric);
INSERT INTO orders VALUES
  ('ann', '2015-02-01 10:00+00', 10.00),
  ('ann', '2015-02-06 09:00+00', 20.50),
  ('bob', '2015-01-01 12:00+00', 5),
  ('bob', '2015-01-02 12:00+00', 7),
  ('bob', '2015-01-05 08:00+00', 3),
  ('bob', '2015-01-05 18:00+00', 4),     -- a second order that day: one purchase day
  ('cat', '2015-01-20 00:00+00', 100),
  ('cat', '2015-01-25 00:00+00', -40),    -- a refund: nets monetary, not activity
  ('cat', '2015-02-07 00:00+00', NULL),   -- unknown value: an order worth nothing known
  ('dan', NULL, 99),                      -- no order time: ignored
  ('eve', '2015-01-10 00:00+00', -15);    -- only a refund: no purchase at all

-- One summary per customer.
SELECT customer, (lifecycle.rfm_agg(ordered_at, amount)).*
  FROM orders GROUP BY customer ORDER BY customer;

-- Derived values at the observation end 2015-02-07 (lifetimes' documented
-- example: ann is (1, 5, 6), bob is (2, 4, 37)).
SELECT customer,
       lifecycle.days_since_last_order(s, '2015-02-07') AS days_since_last_order,
       lifecycle.tenure_days(s, '2015-02-07') AS tenure_days,
       lifecycle.mean_interval_days(s) AS mean_interval_days,
       lifecycle.aov(s) AS aov,
       (lifecycle.btyd(s, '2015-02-07')).*
  FROM (SELECT customer, lifecycle.rfm_agg(ordered_at, amount) AS s
          FROM orders GROUP BY customer) c
 ORDER BY customer;

-- The same in weeks.
SELECT customer, (lifecycle.btyd(s, '2015-02-07', 'week')).*
  FROM (SELECT customer, lifecycle.rfm_agg(ordered_at, amount) AS s
          FROM orders WHERE customer IN ('ann', 'bob') GROUP BY customer) c
 ORDER BY customer;

-- date and timestamp order times give the same days.
SELECT customer,
       lifecycle.rfm_agg(ordered_at AT TIME ZONE 'UTC', amount) =
       lifecycle.rfm_agg((ordered_at AT TIME ZONE 'UTC')::date, amount) AS same
  FROM orders GROUP BY customer ORDER BY customer;

-- Integer amounts cast implicitly.
SELECT (lifecycle.rfm_agg(d, a)).monetary
  FROM (VALUES ('2020-01-01'::date, 3), ('2020-01-02', 4)) v(d, a);

-- No rows, or only rows without a time: no summary.
SELECT lifecycle.rfm_agg(ordered_at, amount) IS NULL AS no_summary FROM orders WHERE false;
SELECT lifecycle.rfm_agg(ordered_at, amount) IS NULL AS no_summary FROM orders WHERE customer = 'dan';

-- Days never depend on the session TimeZone; the zone is explicit.
CREATE TABLE late (customer int, ordered_at timestamptz, amount numeric);
INSERT INTO late VALUES (1, '2020-03-01 14:30+00', 1), (1, '2020-03-01 16:00+00', 1);
SET TimeZone = 'UTC';
SELECT z AS zone, (s).first_purchase, (s).last_purchase, (s).purchase_days
  FROM (SELECT 'default (UTC)' AS z, lifecycle.rfm_agg(ordered_at, amount) AS s FROM late
        UNION ALL
        SELECT 'Asia/Tokyo', lifecycle.rfm_agg(ordered_at, amount, 'Asia/Tokyo') FROM late
        UNION ALL
        SELECT 'America/Los_Angeles', lifecycle.rfm_agg(ordered_at, amount, 'America/Los_Angeles') FROM late) r
 ORDER BY 1;
SET TimeZone = 'Asia/Tokyo';
SELECT z AS zone, (s).first_purchase, (s).last_purchase, (s).purchase_days
  FROM (SELECT 'default (UTC)' AS z, lifecycle.rfm_agg(ordered_at, amount) AS s FROM late
        UNION ALL
        SELECT 'Asia/Tokyo', lifecycle.rfm_agg(ordered_at, amount, 'Asia/Tokyo') FROM late
        UNION ALL
        SELECT 'America/Los_Angeles', lifecycle.rfm_agg(ordered_at, amount, 'America/Los_Angeles') FROM late) r
 ORDER BY 1;
SET TimeZone = 'America/Los_Angeles';
SELECT z AS zone, (s).first_purchase, (s).last_purchase, (s).purchase_days
  FROM (SELECT 'default (UTC)' AS z, lifecycle.rfm_agg(ordered_at, amount) AS s FROM late
        UNION ALL
        SELECT 'Asia/Tokyo', lifecycle.rfm_agg(ordered_at, amount, 'Asia/Tokyo') FROM late
        UNION ALL
        SELECT 'America/Los_Angeles', lifecycle.rfm_agg(ordered_at, amount, 'America/Los_Angeles') FROM late) r
 ORDER BY 1;
RESET TimeZone;

-- Bad input: each gets a clear error.
\set VERBOSITY terse
SELECT lifecycle.rfm_agg(d, a) FROM (VALUES ('2020-01-01'::date, 'NaN'::numeric)) v(d, a);
SELECT lifecycle.rfm_agg(d, a) FROM (VALUES ('2020-01-01'::date, 'Infinity'::numeric)) v(d, a);
SELECT lifecycle.rfm_agg(d, a) FROM (VALUES ('2020-01-01'::date, '-Infinity'::numeric)) v(d, a);
SELECT lifecycle.rfm_agg(d, 1) FROM (VALUES ('infinity'::date)) v(d);
SELECT lifecycle.rfm_agg(t, 1) FROM (VALUES ('-infinity'::timestamp)) v(t);
SELECT lifecycle.rfm_agg(t, 1) FROM (VALUES ('infinity'::timestamptz)) v(t);
SELECT lifecycle.rfm_agg(t, 1, 'Mars/Olympus') FROM (VALUES (now())) v(t);
SELECT lifecycle.rfm_agg(t, 1, NULL) FROM (VALUES (now())) v(t);
SELECT lifecycle.days_since_last_order(lifecycle.rfm_agg(d, 1), '2019-12-31')
  FROM (VALUES ('2020-01-01'::date)) v(d);
SELECT lifecycle.btyd(lifecycle.rfm_agg(d, 1), '2020-02-01', 'month')
  FROM (VALUES ('2020-01-01'::date)) v(d);
\set VERBOSITY default
SELECT lifecycle.days_since_last_order(lifecycle.rfm_agg(d, 1), '2019-12-31')
  FROM (VALUES ('2020-01-01'::date)) v(d);
SELECT lifecycle.rfm_agg(d, a) FROM (VALUES ('2020-01-01'::date, 'NaN'::numeric)) v(d, a);

-- A hand-made summary that cannot be true is refused, not believed.
SELECT lifecycle.days_since_last_order(
  ROW('2020-01-05', '2020-01-01', NULL, 2, 2, 0, 0, 0, 0, 0)::lifecycle.rfm, '2020-02-01');
