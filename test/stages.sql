-- lifecycle.stage, rule by rule: each threshold walked a day before, on and
-- after it, the source's examples, an independent SQL statement of the rules
-- over many random summaries, and every error with its SQLSTATE.
BEGIN;
SELECT plan(76);

-- A summary with n purchase days: the first, the one before the last, the last.
CREATE FUNCTION pg_temp.summary(first date, previous date, last date, n integer)
  RETURNS lifecycle.rfm LANGUAGE sql IMMUTABLE
  RETURN ROW(first, last, previous, n, n, 10 * n, 10 * n, 0, 0, 10)::lifecycle.rfm;

-- One purchase, r days before the as-of date 2024-06-30.
CREATE FUNCTION pg_temp.once(r integer) RETURNS lifecycle.rfm LANGUAGE sql IMMUTABLE
  RETURN pg_temp.summary(date '2024-06-30' - r, NULL, date '2024-06-30' - r, 1);

-- n purchase days spread evenly over span days, the last r days before
-- 2024-06-30 (the day before the last is span / (n - 1) before it).
CREATE FUNCTION pg_temp.regular(n integer, span integer, r integer) RETURNS lifecycle.rfm
  LANGUAGE sql IMMUTABLE
  RETURN pg_temp.summary(date '2024-06-30' - r - span,
                         date '2024-06-30' - r - span / (n - 1),
                         date '2024-06-30' - r, n);

-- Two purchase days gap days apart, the last r days before 2024-06-30.
CREATE FUNCTION pg_temp.comeback(gap integer, r integer) RETURNS lifecycle.rfm
  LANGUAGE sql IMMUTABLE
  RETURN pg_temp.summary(date '2024-06-30' - r - gap, date '2024-06-30' - r - gap,
                         date '2024-06-30' - r, 2);

-- Rule 1: no purchase.
SELECT is(lifecycle.stage(NULL, '2024-06-30'), 'prospect', 'no summary: prospect');
SELECT is(lifecycle.stage((SELECT lifecycle.rfm_agg(d, -5::numeric) FROM (VALUES (date '2024-06-01')) v(d)),
                          '2024-06-30'),
          'prospect', 'only a refund: prospect');

-- Rule 2: churned beyond churn_days (270).
SELECT is(lifecycle.stage(pg_temp.once(269), '2024-06-30'), 'dormant', 'R 269: dormant');
SELECT is(lifecycle.stage(pg_temp.once(270), '2024-06-30'), 'dormant', 'R 270: dormant');
SELECT is(lifecycle.stage(pg_temp.once(271), '2024-06-30'), 'churned', 'R 271: churned');
SELECT is(lifecycle.stage(pg_temp.comeback(400, 271), '2024-06-30'), 'churned',
          'R 271 after a long gap: churned before reactivated');

-- Rule 3: dormant beyond dormant_days (180).
SELECT is(lifecycle.stage(pg_temp.once(179), '2024-06-30'), 'at_risk', 'R 179: at_risk');
SELECT is(lifecycle.stage(pg_temp.once(180), '2024-06-30'), 'at_risk', 'R 180: at_risk');
SELECT is(lifecycle.stage(pg_temp.once(181), '2024-06-30'), 'dormant', 'R 181: dormant');

-- Rule 4: at risk beyond active_days (90).
SELECT is(lifecycle.stage(pg_temp.once(89), '2024-06-30'), 'new', 'one purchase, R 89: new');
SELECT is(lifecycle.stage(pg_temp.once(90), '2024-06-30'), 'new', 'one purchase, R 90: new');
SELECT is(lifecycle.stage(pg_temp.once(91), '2024-06-30'), 'at_risk', 'one purchase, R 91: at_risk');
SELECT is(lifecycle.stage(pg_temp.regular(5, 28, 91), '2024-06-30', cadence_factor => NULL),
          'at_risk', 'R 91 with cadence off: at_risk');

-- Rule 5: reactivated when the gap between the last two purchase days
-- exceeds churn_days (270), as long as the last one is recent.
SELECT is(lifecycle.stage(pg_temp.comeback(269, 10), '2024-06-30'), 'active', 'gap 269: active');
SELECT is(lifecycle.stage(pg_temp.comeback(270, 10), '2024-06-30'), 'active', 'gap 270: active');
SELECT is(lifecycle.stage(pg_temp.comeback(271, 10), '2024-06-30'), 'reactivated', 'gap 271: reactivated');
SELECT is(lifecycle.stage(pg_temp.comeback(300, 33), '2024-06-30'), 'reactivated',
          'the source''s example: back after a 300-day gap');
SELECT is(lifecycle.stage(pg_temp.comeback(300, 90), '2024-06-30'), 'reactivated', 'gap 300, R 90: reactivated');
SELECT is(lifecycle.stage(pg_temp.comeback(300, 91), '2024-06-30'), 'at_risk', 'gap 300, R 91: at_risk');
SELECT is(lifecycle.stage(pg_temp.comeback(300, 10), '2024-06-30', churn_days => 300), 'active',
          'gap 300 with churn_days 300: active');
SELECT is(lifecycle.stage(pg_temp.comeback(301, 10), '2024-06-30', churn_days => 300), 'reactivated',
          'gap 301 with churn_days 300: reactivated');
SELECT is(lifecycle.stage(pg_temp.summary('2023-01-01', '2023-06-01', '2024-06-20', 3), '2024-06-30'),
          'reactivated', 'three purchase days, the last after a 385-day gap: reactivated');

-- Rule 6: new with one purchase day, however many orders that day.
SELECT is(lifecycle.stage(pg_temp.once(0), '2024-06-30'), 'new', 'bought today: new');
SELECT is(lifecycle.stage((SELECT lifecycle.rfm_agg(d, 5::numeric)
                             FROM (VALUES (date '2024-06-01'), ('2024-06-01'), ('2024-06-01')) v(d)),
                          '2024-06-30'),
          'new', 'three orders on one day: new');
SELECT is(lifecycle.stage(pg_temp.once(60), '2024-06-30', cadence_min_days => 0), 'new',
          'one purchase: the cadence rule does not apply');

-- Rule 7: overdue for their own rhythm, R > max(3 x mean interval, 30).
-- Weekly buyer (5 purchase days over 28 days): the 30-day floor decides.
SELECT is(lifecycle.stage(pg_temp.regular(5, 28, 29), '2024-06-30'), 'active', 'weekly, R 29: active');
SELECT is(lifecycle.stage(pg_temp.regular(5, 28, 30), '2024-06-30'), 'active', 'weekly, R 30: active');
SELECT is(lifecycle.stage(pg_temp.regular(5, 28, 31), '2024-06-30'), 'at_risk', 'weekly, R 31: at_risk');
SELECT is(lifecycle.stage(pg_temp.regular(5, 28, 33), '2024-06-30'), 'at_risk',
          'the source''s example: 33 days since the last order, usually every 7: at_risk');
-- Every 20 days (3 over 40): 3 x 20 = 60 decides.
SELECT is(lifecycle.stage(pg_temp.regular(3, 40, 59), '2024-06-30'), 'active', 'every 20, R 59: active');
SELECT is(lifecycle.stage(pg_temp.regular(3, 40, 60), '2024-06-30'), 'active', 'every 20, R 60: active');
SELECT is(lifecycle.stage(pg_temp.regular(3, 40, 61), '2024-06-30'), 'at_risk', 'every 20, R 61: at_risk');
-- A mean interval of 10/3 days: 3 x 10/3 is exactly 10.
SELECT is(lifecycle.stage(pg_temp.summary('2024-06-10', '2024-06-18', '2024-06-20', 4), '2024-06-29',
                          cadence_min_days => 0), 'active', 'every 10/3, R 9: active');
SELECT is(lifecycle.stage(pg_temp.summary('2024-06-10', '2024-06-18', '2024-06-20', 4), '2024-06-30',
                          cadence_min_days => 0), 'active', 'every 10/3, R 10: active');
SELECT is(lifecycle.stage(pg_temp.summary('2024-06-10', '2024-06-18', '2024-06-20', 4), '2024-07-01',
                          cadence_min_days => 0), 'at_risk', 'every 10/3, R 11: at_risk');
-- cadence_factor 2.5 on a 20-day interval: 50.
SELECT is(lifecycle.stage(pg_temp.regular(2, 20, 49), '2024-06-30', cadence_factor => 2.5), 'active', 'x2.5, R 49: active');
SELECT is(lifecycle.stage(pg_temp.regular(2, 20, 50), '2024-06-30', cadence_factor => 2.5), 'active', 'x2.5, R 50: active');
SELECT is(lifecycle.stage(pg_temp.regular(2, 20, 51), '2024-06-30', cadence_factor => 2.5), 'at_risk', 'x2.5, R 51: at_risk');
-- cadence_min_days walked on a weekly buyer with no floor: 21 decides.
SELECT is(lifecycle.stage(pg_temp.regular(5, 28, 21), '2024-06-30', cadence_min_days => 0), 'active', 'weekly, no floor, R 21: active');
SELECT is(lifecycle.stage(pg_temp.regular(5, 28, 22), '2024-06-30', cadence_min_days => 0), 'at_risk', 'weekly, no floor, R 22: at_risk');
SELECT is(lifecycle.stage(pg_temp.regular(5, 28, 40), '2024-06-30', cadence_min_days => 40), 'active', 'weekly, floor 40, R 40: active');
SELECT is(lifecycle.stage(pg_temp.regular(5, 28, 41), '2024-06-30', cadence_min_days => 40), 'at_risk', 'weekly, floor 40, R 41: at_risk');

-- Rule 8: active otherwise; and the cadence rule switched off.
SELECT is(lifecycle.stage(pg_temp.regular(5, 28, 31), '2024-06-30', cadence_factor => NULL), 'active',
          'weekly, R 31, cadence off: active');
SELECT is(lifecycle.stage(pg_temp.regular(5, 28, 90), '2024-06-30', cadence_factor => NULL), 'active',
          'weekly, R 90, cadence off: active');

-- Other thresholds: 30 / 60 / 90, and all three equal.
SELECT is(lifecycle.stage(pg_temp.once(30), '2024-06-30', 30, 60, 90), 'new', '30/60/90, R 30: new');
SELECT is(lifecycle.stage(pg_temp.once(31), '2024-06-30', 30, 60, 90), 'at_risk', '30/60/90, R 31: at_risk');
SELECT is(lifecycle.stage(pg_temp.once(60), '2024-06-30', 30, 60, 90), 'at_risk', '30/60/90, R 60: at_risk');
SELECT is(lifecycle.stage(pg_temp.once(61), '2024-06-30', 30, 60, 90), 'dormant', '30/60/90, R 61: dormant');
SELECT is(lifecycle.stage(pg_temp.once(90), '2024-06-30', 30, 60, 90), 'dormant', '30/60/90, R 90: dormant');
SELECT is(lifecycle.stage(pg_temp.once(91), '2024-06-30', 30, 60, 90), 'churned', '30/60/90, R 91: churned');
SELECT is(lifecycle.stage(pg_temp.once(100), '2024-06-30', 100, 100, 100), 'new', '100/100/100, R 100: new');
SELECT is(lifecycle.stage(pg_temp.once(101), '2024-06-30', 100, 100, 100), 'churned', '100/100/100, R 101: churned');

-- Total, and the rules as written: an independent SQL statement of the table
-- of PRODUCT.md section 3 (exact numeric arithmetic) agrees with the C
-- function on 20,000 random summaries, thresholds and as-of dates.
CREATE TEMP TABLE cases AS
SELECT s.*, a.*,
       pg_temp.summary(s.last - s.span, CASE WHEN s.n > 1 THEN s.last - s.gap END, s.last, s.n) AS summary
  FROM (SELECT i, n, last, span, CASE WHEN n = 1 THEN 0 WHEN n = 2 THEN span ELSE gap0 % (span - n + 2) + 1 END AS gap
          FROM (SELECT i, n, date '2024-06-30' - (random() * 600)::int AS last,
                       CASE WHEN n = 1 THEN 0 ELSE n - 1 + (random() * 900)::int END AS span,
                       (random() * 900)::int AS gap0
                  FROM (SELECT i, 1 + (random() * random() * 12)::int AS n
                          FROM generate_series(1, 20000) i) k) l) s,
       LATERAL (SELECT 1 + (random() * 120)::int + 0 * s.i AS active_days) a1,
       LATERAL (SELECT a1.active_days, a1.active_days + (random() * 120)::int AS dormant_days) a2,
       LATERAL (SELECT a2.active_days, a2.dormant_days, a2.dormant_days + (random() * 200)::int AS churn_days,
                       CASE WHEN random() < 0.1 THEN NULL ELSE (1 + (random() * 16)::int) / 4.0 END AS cadence_factor,
                       (random() * 60)::int AS cadence_min_days) a;
SELECT is((SELECT count(*) FROM cases
            WHERE lifecycle.stage(summary, '2024-06-30', active_days, dormant_days, churn_days,
                                  cadence_factor, cadence_min_days) IS DISTINCT FROM
                  (CASE
                   WHEN '2024-06-30' - last > churn_days THEN 'churned'
                   WHEN '2024-06-30' - last > dormant_days THEN 'dormant'
                   WHEN '2024-06-30' - last > active_days THEN 'at_risk'
                   WHEN n >= 2 AND gap > churn_days THEN 'reactivated'
                   WHEN n = 1 THEN 'new'
                   WHEN cadence_factor IS NOT NULL
                    AND '2024-06-30' - last > greatest(cadence_factor::numeric * span / (n - 1), cadence_min_days)
                   THEN 'at_risk'
                   ELSE 'active'
                   END)::lifecycle.stage),
          0::bigint, 'C rules agree with the SQL statement of the rules on 20,000 random cases');
SELECT cmp_ok((SELECT count(DISTINCT lifecycle.stage(summary, '2024-06-30', active_days, dormant_days,
                                                      churn_days, cadence_factor, cadence_min_days))
                 FROM cases), '=', 6::bigint, 'the random cases reach every stage but prospect');

-- Errors, with their SQLSTATE.
SELECT throws_ok($$SELECT lifecycle.stage(NULL, NULL)$$, '22004', 'as-of date must not be NULL', 'NULL as-of');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, 'infinity')$$, '22008', 'as-of date must be finite', 'infinite as-of');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '-infinity')$$, '22008', 'as-of date must be finite', '-infinite as-of');
SELECT throws_ok($$SELECT lifecycle.stage(pg_temp.once(0), '2024-06-29')$$, '22023',
                 'as-of date 2024-06-29 is before the last purchase 2024-06-30', 'as-of before the last purchase');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', active_days => NULL)$$, '22004',
                 'active_days must not be NULL', 'NULL active_days');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', dormant_days => NULL)$$, '22004',
                 'dormant_days must not be NULL', 'NULL dormant_days');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', churn_days => NULL)$$, '22004',
                 'churn_days must not be NULL', 'NULL churn_days');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', cadence_min_days => NULL)$$, '22004',
                 'cadence_min_days must not be NULL', 'NULL cadence_min_days');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', active_days => 0)$$, '22023',
                 'stage thresholds must be positive', 'active_days 0');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', -10, -5, -1)$$, '22023',
                 'stage thresholds must be positive', 'negative thresholds');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', active_days => 181)$$, '22023',
                 'stage thresholds must satisfy active_days <= dormant_days <= churn_days', 'active_days > dormant_days');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', dormant_days => 271)$$, '22023',
                 'stage thresholds must satisfy active_days <= dormant_days <= churn_days', 'dormant_days > churn_days');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', cadence_factor => 0)$$, '22023',
                 'cadence_factor must be positive and finite', 'cadence_factor 0');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', cadence_factor => -3)$$, '22023',
                 'cadence_factor must be positive and finite', 'negative cadence_factor');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', cadence_factor => 'NaN')$$, '22023',
                 'cadence_factor must be positive and finite', 'NaN cadence_factor');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', cadence_factor => 'Infinity')$$, '22023',
                 'cadence_factor must be positive and finite', 'infinite cadence_factor');
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', cadence_min_days => -1)$$, '22023',
                 'cadence_min_days must not be negative', 'negative cadence_min_days');
SELECT throws_ok($$SELECT lifecycle.stage(ROW('2024-01-01', '2024-02-01', NULL, 2, 2, 0, 0, 0, 0, 0)::lifecycle.rfm, '2024-06-30')$$,
                 '22023', 'inconsistent customer summary', 'a summary rfm_agg cannot make');
SELECT throws_ok($$SELECT lifecycle.stage(ROW('2024-01-01', '2024-02-01', NULL, 1, 3, 0, 0, 0, 0, 0)::lifecycle.rfm, '2024-06-30')$$,
                 '22023', 'inconsistent customer summary', 'more purchase days than orders');
-- Thresholds are checked even for a prospect, so that a bad policy never
-- passes unnoticed on a store without buyers.
SELECT throws_ok($$SELECT lifecycle.stage(NULL, '2024-06-30', active_days => 0)$$, '22023', NULL,
                 'thresholds checked for a prospect too');

-- Properties of the function as declared.
SELECT is((SELECT provolatile::text || proparallel::text || proisstrict::text
             FROM pg_proc WHERE oid = 'lifecycle.stage(lifecycle.rfm, date, integer, integer, integer, double precision, integer)'::regprocedure),
          'isfalse', 'IMMUTABLE, PARALLEL SAFE, CALLED ON NULL INPUT');
SELECT is((SELECT array_agg(enumlabel::text ORDER BY enumsortorder) FROM pg_enum
            WHERE enumtypid = 'lifecycle.stage'::regtype),
          ARRAY['prospect', 'new', 'active', 'at_risk', 'dormant', 'churned', 'reactivated'],
          'the stages, in order');

SELECT * FROM finish();
ROLLBACK;
