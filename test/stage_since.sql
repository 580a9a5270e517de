-- A segment view's stage_since, days_in_stage and stage_reason against an
-- oracle that follows the definition day by day: the stage of a customer on
-- day d is lifecycle.stage of their orders up to d, so the run of their
-- current stage starts the day after the last day, up to as_of, on which it
-- was different (or on their first purchase day).  Customers with regular,
-- irregular, lapsing, returning and one-off habits, so that every rule and
-- the cadence rule fire, and runs of one stage span several purchases.
BEGIN;
SELECT plan(6);
SET LOCAL client_min_messages = warning;

CREATE TABLE habits (customer int, day date, amount numeric);
INSERT INTO habits
-- 1-30: weekly for two years, up to the last weeks: active across many purchases
SELECT c, date '2025-07-31' - 730 + c % 5 + k * 7, 20 FROM generate_series(1, 30) c, generate_series(0, 104 - c % 4) k
UNION ALL  -- 31-50: every 5 days for a year, then silent 31-60 days: at risk by their own rhythm
SELECT c, date '2025-07-31' - 30 - c - 365 + k * 5, 15 FROM generate_series(31, 50) c, generate_series(0, 73) k
UNION ALL  -- 51-110: monthly for a year, then silent 91-330 days: at risk, dormant, churned
SELECT c, date '2025-07-31' - 90 - (c - 50) * 4 - 330 + k * 30, 30 FROM generate_series(51, 110) c, generate_series(0, 11) k
UNION ALL  -- 111-125: one purchase in the last 90 days (or more): new, at risk
SELECT c, date '2025-07-31' - (c - 110) * 7, 50 FROM generate_series(111, 125) c
UNION ALL  -- 126-145: bought in 2023, then again within the last 90 days: reactivated (odd ones
           -- bought a third time since: active, their run starting at that purchase)
SELECT c, d, 40 FROM generate_series(126, 145) c,
       unnest(CASE WHEN c % 2 = 0 THEN ARRAY[date '2023-03-01' + c, date '2025-07-31' - (c - 125) * 4]
                   ELSE ARRAY[date '2023-03-01' + c, date '2025-07-31' - 60 - c % 7, date '2025-07-31' - (c % 3) * 2] END) d
UNION ALL  -- 146-160: irregular
SELECT c, date '2024-01-01' + (k * k * (c % 7 + 1) + c) % 560, 12 FROM generate_series(146, 160) c, generate_series(0, c % 9) k
UNION ALL  -- a refund is not activity
SELECT c, date '2025-07-20', -3 FROM generate_series(2, 160, 13) c;

SELECT lifecycle.create_segment_view('habits_v', 'habits', 'customer', 'day', 'amount', as_of => '2025-07-31');

-- The oracle: each customer's stage on every day from their first purchase.
CREATE TEMP TABLE daily AS
SELECT h.customer, d::date AS day,
       lifecycle.stage((SELECT lifecycle.rfm_agg(o.day, o.amount) FROM habits o
                         WHERE o.customer = h.customer AND o.day <= d::date), d::date) AS stage
  FROM (SELECT customer, min(day) FILTER (WHERE amount >= 0) AS first_day FROM habits GROUP BY customer) h,
       generate_series(h.first_day, date '2025-07-31', interval '1 day') d;
CREATE TEMP TABLE oracle AS
SELECT n.customer, n.stage,
       coalesce((SELECT max(x.day) + 1 FROM daily x WHERE x.customer = n.customer AND x.stage <> n.stage),
                (SELECT min(x.day) FROM daily x WHERE x.customer = n.customer)) AS since
  FROM daily n WHERE n.day = '2025-07-31';

SELECT is((SELECT count(*) FROM oracle), 160::bigint, 'every customer has an oracle stage');
SELECT is((SELECT count(*) FROM oracle o JOIN habits_v v USING (customer) WHERE v.stage = o.stage::text),
          160::bigint, 'the view''s stages are the oracle''s');
SELECT is((SELECT count(*) FROM oracle o JOIN habits_v v USING (customer) WHERE v.stage_since = o.since),
          160::bigint, 'stage_since is the first day of the run of the current stage, for every customer');
SELECT ok((SELECT count(DISTINCT stage) FROM oracle) = 6
          AND (SELECT count(*) FROM oracle o JOIN habits h USING (customer)
                WHERE h.amount >= 0 AND h.day < o.since - 1 AND o.stage = 'active') > 0,
          'the store has every stage but prospect, and active runs that span several purchases');
SELECT is((SELECT count(*) FROM habits_v WHERE days_in_stage <> as_of - stage_since), 0::bigint,
          'days_in_stage = as_of - stage_since');
SELECT is((SELECT count(*) FROM habits_v
            WHERE stage_reason NOT LIKE CASE stage
                    WHEN 'churned' THEN 'no order for ' || days_since_last_order || ' days, more than 270'
                    WHEN 'dormant' THEN 'no order for ' || days_since_last_order || ' days, more than 180'
                    WHEN 'at_risk' THEN 'no order for ' || days_since_last_order || ' days, more than %'
                    WHEN 'new' THEN 'one purchase day, ' || days_since_last_order || ' days ago'
                    WHEN 'active' THEN 'last order ' || days_since_last_order || ' days ago; they buy every %'
                    WHEN 'reactivated' THEN 'bought again ' || days_since_last_order || ' days ago after % days without an order, more than 270'
                  END), 0::bigint,
          'stage_reason names the rule that fired, with the days since the last order');

SELECT * FROM finish();
ROLLBACK;
