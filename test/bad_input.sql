-- Bad input to the summary aggregate: each case of PRODUCT.md section 1 gets
-- its exact outcome, errors with their SQLSTATE.
BEGIN;
SELECT plan(16);

SELECT throws_ok($$SELECT lifecycle.rfm_agg(d, 'NaN'::numeric) FROM (VALUES (date '2020-01-01')) v(d)$$,
                 '22023', 'order amount must not be NaN', 'NaN amount: 22023');
SELECT throws_ok($$SELECT lifecycle.rfm_agg(d, 'Infinity'::numeric) FROM (VALUES (date '2020-01-01')) v(d)$$,
                 '22023', 'order amount must be finite', 'infinite amount: 22023');
SELECT throws_ok($$SELECT lifecycle.rfm_agg(d, '-Infinity'::numeric) FROM (VALUES (date '2020-01-01')) v(d)$$,
                 '22023', 'order amount must be finite', '-infinite amount: 22023');
SELECT throws_ok($$SELECT lifecycle.rfm_agg(d, 1) FROM (VALUES ('infinity'::date)) v(d)$$,
                 '22008', 'order time must be finite', 'infinite date: 22008');
SELECT throws_ok($$SELECT lifecycle.rfm_agg(t, 1) FROM (VALUES ('-infinity'::timestamp)) v(t)$$,
                 '22008', 'order time must be finite', 'infinite timestamp: 22008');
SELECT throws_ok($$SELECT lifecycle.rfm_agg(t, 1, 'Europe/Paris') FROM (VALUES ('infinity'::timestamptz)) v(t)$$,
                 '22008', 'order time must be finite', 'infinite timestamptz: 22008');
SELECT throws_ok($$SELECT lifecycle.rfm_agg(t, 1, 'Nowhere/Atlantis') FROM (VALUES (now())) v(t)$$,
                 '22023', 'time zone "Nowhere/Atlantis" not recognized', 'unknown zone: 22023');
SELECT throws_ok($$SELECT lifecycle.rfm_agg(t, 1, NULL) FROM (VALUES (now())) v(t)$$,
                 '22004', 'time zone must not be NULL', 'NULL zone: 22004');
SELECT throws_ok($$SELECT lifecycle.btyd(lifecycle.rfm_agg(d, 1), '2020-03-01', 'month') FROM (VALUES (date '2020-01-01')) v(d)$$,
                 '22023', 'time unit "month" not recognized', 'month unit: 22023');
SELECT throws_ok($$SELECT lifecycle.tenure_days(lifecycle.rfm_agg(d, 1), 'infinity') FROM (VALUES (date '2020-01-01')) v(d)$$,
                 '22008', 'as-of date must be finite', 'infinite as-of: 22008');

-- Documented exclusions: no error, exact outcome.
SELECT is((SELECT lifecycle.rfm_agg(t, a) FROM (VALUES (NULL::date, 5::numeric)) v(t, a)), NULL,
          'a row without an order time is ignored');
SELECT is((SELECT (lifecycle.rfm_agg(t, a)).orders FROM (VALUES ('2020-01-01'::date, NULL::numeric)) v(t, a)), 1::bigint,
          'a NULL amount is an order');
SELECT is((SELECT (lifecycle.rfm_agg(t, a)).monetary FROM (VALUES ('2020-01-01'::date, NULL::numeric), ('2020-01-02', 2.5)) v(t, a)), 2.5,
          'a NULL amount adds nothing to monetary');
SELECT is((SELECT row((s).orders, (s).purchase_days, (s).last_purchase, (s).refunds, (s).monetary)::text
             FROM (SELECT lifecycle.rfm_agg(t, a) AS s
                     FROM (VALUES ('2020-01-01'::date, 10::numeric), ('2020-02-01', -4)) v(t, a)) q),
          '(1,1,2020-01-01,1,6)',
          'a refund nets monetary but is neither an order nor recency');

-- A summary that cannot come from rfm_agg is refused, never believed.
SELECT throws_ok($$SELECT lifecycle.days_since_last_order(ROW('2020-01-01', '2020-01-01', NULL, 1, 2, 0, 0, 0, 0, 0)::lifecycle.rfm, '2020-02-01')$$,
                 '22023', 'inconsistent customer summary', 'a forged summary is refused');
SELECT is((SELECT lifecycle.days_since_last_order(lifecycle.rfm_agg(d, 1), '2020-01-11') FROM (VALUES ('2020-01-01'::date)) v(d)), 10,
          'days since last order at the as-of date');

SELECT * FROM finish();
ROLLBACK;
