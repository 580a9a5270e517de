-- Cohorts and returning buyers (issues 12 and 15): the cohort retention table,
-- new and returning buyers of a period and of each month, and the seeds'
-- figures (second purchase within N days, purchase on the sign-up day), on a
-- small store whose every figure is worked out by hand in the comments.
SET client_min_messages = warning;
CREATE SCHEMA cohorts_test;  -- this script's tables, dropped at the end
SET search_path = cohorts_test;
SET DateStyle = ISO;

-- A store in UTC; times at noon unless said otherwise.
CREATE TABLE orders (customer text, at timestamptz, amount numeric(10,2));
INSERT INTO orders VALUES
  ('a', '2024-01-05 12:00+00', 100),   -- a: first purchase 5 January
  ('a', '2024-01-20 12:00+00',  50),
  ('a', '2024-02-10 12:00+00',  30),
  ('a', '2024-03-15 12:00+00', -20),   -- a refund: not activity, lowers revenue
  ('b', '2024-01-10 12:00+00',  80),   -- b: first purchase 10 January
  ('b', '2024-03-02 12:00+00', NULL),  -- a purchase of unknown value: activity, no money
  ('c', '2023-12-20 12:00+00',  40),   -- c: first purchase in December 2023
  ('c', '2024-01-15 12:00+00',  60),
  ('d', '2024-01-31 23:30+00',  70),   -- d: 31 January in UTC, 1 February 08:30 in Tokyo
  ('d', '2024-02-20 12:00+00',  25),
  ('e', '2024-02-03 12:00+00', -15),   -- e: a refund before any purchase
  ('e', '2024-02-14 12:00+00',  90),   -- e: first purchase 14 February, two orders that day
  ('e', '2024-02-14 15:00+00',  10),
  ('f', '2024-02-05 12:00+00',  -5),   -- f: only a refund, never a buyer
  ('g', '2024-03-20 12:00+00',  45),   -- g: first purchase 20 March
  ('g', '2024-04-02 12:00+00',  30),   -- the last order of the data: 2 April
  ('h', '2024-03-28 12:00+00',  20),   -- h: first purchase 28 March, nothing since
  (NULL, '2024-01-07 12:00+00', 500),  -- a guest checkout: no customer, left out
  ('i', NULL, 10);                     -- no order time: left out

-- 1. The cohort table, January to March 2024.
--  January cohort: a (5 Jan), b (10 Jan), d (31 Jan); c bought first in
--  December, so she is not in it.  3 customers.
--    month 0, January:  a, b, d active: 3/3 = 100.00 %; revenue 100 + 50 + 80 + 70 = 300
--    month 1, February: a (10 Feb), d (20 Feb): 2/3 = 66.67 %; revenue 30 + 25 = 55
--    month 2, March:    b (unknown amount) is active, a's refund is not: 1/3 = 33.33 %;
--                       revenue -20 (a's refund) + 0 (b) = -20
--  February cohort: e (14 Feb).  1 customer.
--    month 0: 1/1; revenue -15 + 90 + 10 = 85 (the refund of 3 February is dated in the month)
--    month 1: nobody: 0.00 %, revenue 0
--  March cohort: g (20 Mar), h (28 Mar).  2 customers; month 0: revenue 45 + 20 = 65.
--  g's order of 2 April is after the range.
SELECT * FROM lifecycle.cohort_retention('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-03-01');
-- Any day names its month, and both months are included: December 2023 to
-- January 2024.  December cohort: c, active again in January (100 %, 60).
SELECT * FROM lifecycle.cohort_retention('orders', 'customer', 'at', 'amount', '2023-12-25', '2024-01-10');
-- Months in Tokyo (UTC+9): d's first order is on 1 February there, so d
-- joins the February cohort.  January cohort: a, b (2): month 0 revenue 230;
-- month 1 a: 1/2 = 50.00 %, 30; month 2 b: 50.00 %, -20.  February cohort:
-- d, e (2): month 0 revenue 70 + 25 + 85 = 180; month 1 nobody.
SELECT * FROM lifecycle.cohort_retention('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-03-01', 'Asia/Tokyo');
-- The session's TimeZone changes nothing.
CREATE TABLE tokyo AS
SELECT * FROM lifecycle.cohort_retention('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-03-01', 'Asia/Tokyo');
SET TimeZone = 'Pacific/Kiritimati';
SELECT (SELECT string_agg(c::text, ';') FROM lifecycle.cohort_retention('orders', 'customer', 'at', 'amount',
                                                                       '2024-01-01', '2024-03-01', 'Asia/Tokyo') c)
       = (SELECT string_agg(t::text, ';') FROM tokyo t) AS same_in_any_session_zone;
RESET TimeZone;
-- A date column and an integer amount work the same: the UTC table again.
CREATE TABLE orders_by_day AS
SELECT customer, lifecycle.local_day(at, 'UTC') AS day, amount::integer AS amount FROM orders;
SELECT (SELECT array_agg(c) FROM lifecycle.cohort_retention('orders_by_day', 'customer', 'day', 'amount', '2024-01-01', '2024-03-01') c)
       = (SELECT array_agg(c) FROM lifecycle.cohort_retention('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-03-01') c)
       AS date_column_same;
-- A month without first purchases has no cohort rows: none in May 2024.
SELECT count(*) AS rows FROM lifecycle.cohort_retention('orders', 'customer', 'at', 'amount', '2024-05-01', '2024-06-01');

-- 2. New and returning buyers of January 2024, come-back window 30 days.
--  Buyers: a, b, c, d (4); f and the guest are not.  New (first purchase
--  ever in January): a, b, d (3) = 75.00 %; returning: c (1) = 25.00 %.
--  New orders: a 2, b 1, d 1 = 4, revenue 150 + 80 + 70 = 300; returning:
--  c 1 order, 60.  Came back within 30 days of the first purchase day: a
--  (20 Jan, 15 days later), d (20 Feb, 20 days); not b (2 Mar, 52 days):
--  2/3 = 66.67 %.  Pending: none (the data end on 2 April, after every window).
SELECT * FROM lifecycle.buyer_mix('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', 'UTC', 30);
-- With 60 days, b's purchase of 2 March counts too: 3/3.  (180 is the default.)
SELECT new_buyers, came_back, came_back_pct
  FROM lifecycle.buyer_mix('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', 'UTC', 60);
-- March: buyers b (unknown amount: an order worth 0), g, h; a's refund is no
-- purchase.  New: g, h (66.67 %), 2 orders, 45 + 20 = 65; returning: b
-- (33.33 %), 1 order, 0.  Came back within 30 days: g (2 April).  h bought on
-- 28 March, and 28 March + 30 days = 27 April is after the data's last day
-- (2 April): h has not come back *yet*, so h is pending, and came_back_pct
-- (50.00) counts h as not come back.
SELECT * FROM lifecycle.buyer_mix('orders', 'customer', 'at', 'amount', '2024-03-01', '2024-04-01', 'UTC', 30);
-- The buyers, orders and revenue split exactly those of retention_metrics.
SELECT m.buyers = r.customers AS buyers_match,
       m.new_orders + m.returning_orders = r.orders AS orders_match,
       m.new_revenue + m.returning_revenue = r.revenue AS revenue_match
  FROM lifecycle.buyer_mix('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-04-01', 'UTC', 30) m,
       lifecycle.retention_metrics('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-04-01') r;
-- An empty period: no buyers, no shares.
SELECT buyers, new_buyers_pct, came_back_pct
  FROM lifecycle.buyer_mix('orders', 'customer', 'at', 'amount', '2024-06-01', '2024-06-01');

-- 3. Per calendar month.  Without bounds: from the month of the first
-- purchase (December 2023) to the month of the data's last order (April).
--  December: c new (1 order, 40); c came back on 15 January, 26 days: 1/1.
--  January:  as above.
--  February: buyers a, d, e; new e (33.33 %): 2 orders the same day, 90 + 10
--            = 100 (the refund is not revenue); returning a, d: 2 orders, 30 +
--            25 = 55.  e has not bought again: 0/1.
--  March:    as above.
--  April:    g returning (1 order, 30); no new buyer, no come-back share.
SELECT * FROM lifecycle.buyer_mix_monthly('orders', 'customer', 'at', 'amount', come_back_days => 30);
-- Each month is the period form over that month.
SELECT count(*) AS months,
       count(*) FILTER (WHERE m = lifecycle.buyer_mix('orders', 'customer', 'at', 'amount',
                                                      m.period_from, m.period_to, 'UTC', 30)) AS equal_to_buyer_mix
  FROM lifecycle.buyer_mix_monthly('orders', 'customer', 'at', 'amount', come_back_days => 30) m;
-- With bounds (any day names its month; a month without buyers is a row of zeros).
SELECT period_from, buyers, new_buyers, returning_buyers
  FROM lifecycle.buyer_mix_monthly('orders', 'customer', 'at', 'amount', '2024-03-15', '2024-05-15');

-- 4. The seeds' figures.  Second purchase within N days: of the customers
-- whose first purchase is in January (a, b, d), those who bought again on a
-- later day within 30 days (a, d): 2/3.  Within 60 days, b too.
SELECT * FROM lifecycle.repeat_within('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', 30);
SELECT * FROM lifecycle.repeat_within('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', 60);
-- February: e bought twice on 14 February, which is one purchase day, not a
-- second purchase: 0/1.
SELECT * FROM lifecycle.repeat_within('orders', 'customer', 'at', 'amount', '2024-02-01', '2024-03-01', 30);
-- March: g yes, h pending (see buyer_mix).
SELECT * FROM lifecycle.repeat_within('orders', 'customer', 'at', 'amount', '2024-03-01', '2024-04-01', 30);

-- Sign-ups who buy on their sign-up day.  A customers relation:
CREATE TABLE customers (id text, signed_up timestamptz);
INSERT INTO customers VALUES
  ('a', '2024-01-05 09:00+00'),   -- bought on 5 January: yes
  ('a', '2024-02-01 09:00+00'),   -- a second row for a: her earliest sign-up counts
  ('b', '2024-01-09 12:00+00'),   -- first purchase the next day: no
  ('c', '2023-12-20 08:00+00'),   -- signed up before the period
  ('d', '2024-01-31 14:00+00'),   -- UTC: bought the same day (23:30); Tokyo: 23:00 on the 31st, bought on 1 February
  ('e', '2024-02-03 10:00+00'),   -- her only order that day is a refund
  ('j', '2024-01-20 12:00+00'),   -- never bought
  ('k', NULL),                    -- no sign-up time: left out
  (NULL, '2024-01-02 12:00+00');  -- no key: left out
-- January and February, with the amount column: sign-ups a, b, d, e, j (5);
-- bought that day: a, d (2) = 40.00 %.
SELECT * FROM lifecycle.same_day_buyers('customers', 'id', 'signed_up', 'orders', 'customer', 'at',
                                        '2024-01-01', '2024-03-01', 'UTC', 'amount');
-- Without an amount column every order row is a purchase: e's refund counts, 3/5.
SELECT * FROM lifecycle.same_day_buyers('customers', 'id', 'signed_up', 'orders', 'customer', 'at',
                                        '2024-01-01', '2024-03-01');
-- In Tokyo, d signed up on 31 January and bought on 1 February: 1/5.
SELECT * FROM lifecycle.same_day_buyers('customers', 'id', 'signed_up', 'orders', 'customer', 'at',
                                        '2024-01-01', '2024-03-01', 'Asia/Tokyo', 'amount');

-- 5. Bad input: a clear error with its SQLSTATE, before any order is read;
-- a row no figure can hold (NaN amount, infinite day) when it is met.
CREATE FUNCTION error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE query;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE TABLE bad_amount (customer text, day date, amount numeric);
INSERT INTO bad_amount VALUES ('a', '2024-01-05', 10), ('a', '2024-01-06', 'NaN');
CREATE TABLE bad_day (customer text, day date, amount numeric);
INSERT INTO bad_day VALUES ('a', '2024-01-05', 10), ('a', '-infinity', 10);
SELECT what, error_of(query) FROM (VALUES
  ('cohorts: NULL month',         $$SELECT lifecycle.cohort_retention('orders', 'customer', 'at', 'amount', NULL, '2024-03-01')$$),
  ('cohorts: months reversed',    $$SELECT lifecycle.cohort_retention('orders', 'customer', 'at', 'amount', '2024-03-01', '2024-01-31')$$),
  ('cohorts: infinite month',     $$SELECT lifecycle.cohort_retention('orders', 'customer', 'at', 'amount', '-infinity', '2024-03-01')$$),
  ('cohorts: unknown zone',       $$SELECT lifecycle.cohort_retention('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-03-01', 'Mars/Olympus')$$),
  ('cohorts: NULL zone',          $$SELECT lifecycle.cohort_retention('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-03-01', NULL)$$),
  ('cohorts: no such column',     $$SELECT lifecycle.cohort_retention('orders', 'client', 'at', 'amount', '2024-01-01', '2024-03-01')$$),
  ('cohorts: NaN amount',         $$SELECT lifecycle.cohort_retention('bad_amount', 'customer', 'day', 'amount', '2024-01-01', '2024-03-01')$$),
  ('cohorts: infinite day',       $$SELECT lifecycle.cohort_retention('bad_day', 'customer', 'day', 'amount', '2024-01-01', '2024-03-01')$$),
  ('buyer_mix: NULL period',      $$SELECT lifecycle.buyer_mix('orders', 'customer', 'at', 'amount', '2024-01-01', NULL)$$),
  ('buyer_mix: period reversed',  $$SELECT lifecycle.buyer_mix('orders', 'customer', 'at', 'amount', '2024-02-01', '2024-01-01')$$),
  ('buyer_mix: infinite period',  $$SELECT lifecycle.buyer_mix('orders', 'customer', 'at', 'amount', '2024-01-01', 'infinity')$$),
  ('buyer_mix: window 0',         $$SELECT lifecycle.buyer_mix('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', 'UTC', 0)$$),
  ('buyer_mix: window negative',  $$SELECT lifecycle.buyer_mix('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', 'UTC', -30)$$),
  ('buyer_mix: window huge',      $$SELECT lifecycle.buyer_mix('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', 'UTC', 2000000000)$$),
  ('buyer_mix: window NULL',      $$SELECT lifecycle.buyer_mix('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', 'UTC', NULL)$$),
  ('buyer_mix: infinite day',    $$SELECT lifecycle.buyer_mix('bad_day', 'customer', 'day', 'amount', '2024-01-01', '2024-02-01')$$),
  ('buyer_mix: NaN amount',       $$SELECT lifecycle.buyer_mix('bad_amount', 'customer', 'day', 'amount', '2024-01-01', '2024-02-01')$$),
  ('monthly: months reversed',    $$SELECT lifecycle.buyer_mix_monthly('orders', 'customer', 'at', 'amount', '2024-03-01', '2024-01-01')$$),
  ('monthly: infinite month',     $$SELECT lifecycle.buyer_mix_monthly('orders', 'customer', 'at', 'amount', NULL, 'infinity')$$),
  ('repeat_within: NULL days',    $$SELECT lifecycle.repeat_within('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', NULL)$$),
  ('repeat_within: 0 days',       $$SELECT lifecycle.repeat_within('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', 0)$$),
  ('repeat_within: 3651 days',    $$SELECT lifecycle.repeat_within('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', 3651)$$),
  ('same_day: NULL period',       $$SELECT lifecycle.same_day_buyers('customers', 'id', 'signed_up', 'orders', 'customer', 'at', NULL, '2024-03-01')$$),
  ('same_day: period reversed',   $$SELECT lifecycle.same_day_buyers('customers', 'id', 'signed_up', 'orders', 'customer', 'at', '2024-03-01', '2024-01-01')$$),
  ('same_day: no such key',       $$SELECT lifecycle.same_day_buyers('customers', 'key', 'signed_up', 'orders', 'customer', 'at', '2024-01-01', '2024-03-01')$$),
  ('same_day: sign-up not a time',$$SELECT lifecycle.same_day_buyers('customers', 'id', 'id', 'orders', 'customer', 'at', '2024-01-01', '2024-03-01')$$),
  ('same_day: unknown zone',      $$SELECT lifecycle.same_day_buyers('customers', 'id', 'signed_up', 'orders', 'customer', 'at', '2024-01-01', '2024-03-01', 'Mars/Olympus')$$),
  ('same_day: NaN amount',        $$SELECT lifecycle.same_day_buyers('customers', 'id', 'signed_up', 'bad_amount', 'customer', 'day', '2024-01-01', '2024-03-01', 'UTC', 'amount')$$)
) AS cases(what, query);
-- The hint says what to do.
\set SHOW_CONTEXT never
SELECT lifecycle.repeat_within('orders', 'customer', 'at', 'amount', '2024-01-01', '2024-02-01', 0);
SELECT lifecycle.cohort_retention('orders', 'customer', 'at', 'amount', '2024-03-01', '2024-01-31');
\set SHOW_CONTEXT errors

RESET search_path;
DROP SCHEMA cohorts_test CASCADE;
