-- Purchase-prediction models: published estimates and predictions within
-- their tolerances, exact identities, and every refused input with its
-- SQLSTATE.  Reference values come from the papers, lifetimes' documentation
-- and test/reference/models.py (mpmath).
BEGIN;
SELECT plan(80);
SET LOCAL client_min_messages = warning;

-- |x / target - 1| <= tolerance.
CREATE FUNCTION pg_temp.near(x double precision, target double precision, tolerance double precision)
  RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT abs(x / target - 1) <= tolerance';

-- CDNOW, calibration period up to 1997-09-30, in weeks and in days.
CREATE TEMP TABLE cdnow_lines (line text);
\copy cdnow_lines FROM 'test/fixtures/CDNOW_sample.txt'
CREATE TEMP TABLE summaries AS
SELECT f[2]::int AS customer,
       lifecycle.rfm_agg(to_date(f[3], 'YYYYMMDD'), f[5]::numeric) AS s
  FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM cdnow_lines) l
 WHERE to_date(f[3], 'YYYYMMDD') <= '1997-09-30'
 GROUP BY 1;
CREATE TEMP TABLE weeks AS
SELECT customer, (lifecycle.btyd(s, '1997-09-30', 'week')).* FROM summaries;
CREATE TEMP TABLE days AS
SELECT customer, (lifecycle.btyd(s, '1997-09-30', 'day')).* FROM summaries;
-- The published summary (two decimals), as lifetimes' documentation uses it.
CREATE TEMP TABLE published (id int, x int, t_x float8, t float8, zbar float8);
\copy published FROM 'test/fixtures/cdnow_customers_summary_with_transactions.csv' WITH (FORMAT csv, HEADER)

CREATE TEMP TABLE fits AS
SELECT (SELECT lifecycle.bgnbd_fit(frequency, recency, t) FROM weeks) AS bg,
       (SELECT lifecycle.mbgnbd_fit(frequency, recency, t) FROM weeks) AS mbg,
       (SELECT lifecycle.gammagamma_fit(frequency, monetary_value) FROM weeks) AS gg,
       (SELECT lifecycle.bgnbd_fit(frequency, recency, t) FROM days) AS bg_days,
       (SELECT lifecycle.bgnbd_fit(x, t_x, t) FROM published) AS bg_published,
       (SELECT lifecycle.gammagamma_fit(x, zbar) FROM published) AS gg_published;

-- BG/NBD: Fader, Hardie & Lee (2005) maximum-likelihood estimate, within 0.1 %.
SELECT ok(pg_temp.near((bg).r, 0.24259, 0.001), 'BG/NBD r = 0.24259') FROM fits;
SELECT ok(pg_temp.near((bg).alpha, 4.41360, 0.001), 'BG/NBD alpha = 4.41360') FROM fits;
SELECT ok(pg_temp.near((bg).a, 0.79292, 0.001), 'BG/NBD a = 0.79292') FROM fits;
SELECT ok(pg_temp.near((bg).b, 2.42589, 0.001), 'BG/NBD b = 2.42589') FROM fits;
SELECT ok(abs((bg).log_likelihood + 9582.43) <= 0.01, 'BG/NBD log-likelihood -9582.43') FROM fits;
SELECT is((bg).converged, true, 'BG/NBD converged') FROM fits;
SELECT is((bg).customers, 2357::float8, 'BG/NBD saw 2,357 customers') FROM fits;
-- Standard errors as lifetimes reports them (numerical Hessian), within 0.1 %.
SELECT ok(pg_temp.near((bg).r_se, 0.012557, 0.001), 'BG/NBD se(r)') FROM fits;
SELECT ok(pg_temp.near((bg).alpha_se, 0.378221, 0.001), 'BG/NBD se(alpha)') FROM fits;
SELECT ok(pg_temp.near((bg).a_se, 0.185719, 0.001), 'BG/NBD se(a)') FROM fits;
SELECT ok(pg_temp.near((bg).b_se, 0.705345, 0.001), 'BG/NBD se(b)') FROM fits;

-- MBG/NBD: BTYDplus's estimate, within 1 %.
SELECT ok(pg_temp.near((mbg).r, 0.525, 0.01), 'MBG/NBD r = 0.525') FROM fits;
SELECT ok(pg_temp.near((mbg).alpha, 6.183, 0.01), 'MBG/NBD alpha = 6.183') FROM fits;
SELECT ok(pg_temp.near((mbg).a, 0.891, 0.01), 'MBG/NBD a = 0.891') FROM fits;
SELECT ok(pg_temp.near((mbg).b, 1.614, 0.01), 'MBG/NBD b = 1.614') FROM fits;
SELECT is((mbg).converged, true, 'MBG/NBD converged') FROM fits;

-- Gamma-Gamma on the 946 repeat buyers: lifetimes' estimate, within 1 %.
SELECT ok(pg_temp.near((gg).p, 6.25, 0.01), 'Gamma-Gamma p = 6.25') FROM fits;
SELECT ok(pg_temp.near((gg).q, 3.74, 0.01), 'Gamma-Gamma q = 3.74') FROM fits;
SELECT ok(pg_temp.near((gg).gamma, 15.44, 0.01), 'Gamma-Gamma gamma = 15.44') FROM fits;
SELECT is((gg).customers, 946::float8, 'Gamma-Gamma saw the 946 repeat buyers') FROM fits;
-- On the published two-decimal summary: Fader & Hardie's note 025 estimate.
SELECT ok(pg_temp.near((gg_published).p, 6.24880, 1e-5) AND pg_temp.near((gg_published).q, 3.74459, 1e-5)
          AND pg_temp.near((gg_published).gamma, 15.44775, 1e-5),
          'Gamma-Gamma on the published summary: p = 6.24880, q = 3.74459, gamma = 15.44775') FROM fits;

-- Known values: the paper's customer 1 at the paper's parameters.
SELECT ok(abs(lifecycle.p_alive(lifecycle.bgnbd_model(0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86) - 0.727) < 0.0005,
          'P(alive) of (2, 30.43, 38.86) = 0.727');
SELECT ok(abs(lifecycle.expected_purchases(lifecycle.bgnbd_model(0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 39) - 1.226) < 0.0005,
          'expected purchases of (2, 30.43, 38.86) in 39 weeks = 1.226');
-- Hardie's spreadsheet: a new customer's expected purchases at the fit.
SELECT ok(bool_and(abs(lifecycle.expected_purchases((SELECT bg FROM fits), 0, 0, 0, h) - e) < 0.0005),
          'new customer''s expected purchases match Hardie''s spreadsheet to 4 decimals')
  FROM (VALUES (0.1429, 0.0078), (1.0, 0.0532), (3.0, 0.1506), (31.8571, 1.0405), (32.0, 1.0437), (78.0, 1.8576)) v(h, e);

-- lifetimes' documentation on the published summary: expected spend per
-- purchase and CLV (time=12, discount_rate=0.01 and its default freq='D',
-- which means 12 periods of 30 time units) of customers 1, 2, 3, 6, 7, 9.
SELECT ok(bool_and(pg_temp.near(lifecycle.expected_spend((SELECT gg_published FROM fits), x, zbar), e, 1e-5)),
          'expected spend matches lifetimes (1e-5)')
  FROM published JOIN (VALUES (1, 24.658619), (2, 18.911489), (3, 35.170981), (6, 71.462843), (9, 27.282408)) v(id, e) USING (id);
SELECT ok(bool_and(pg_temp.near(lifecycle.clv(f.bg_published, f.gg_published, x, t_x, t, zbar, 12, 30, 0.01), e, 1e-5)),
          'CLV with 12 periods of 30 weeks at 1 % matches lifetimes (1e-5)')
  FROM fits f, published JOIN (VALUES (1, 140.096211), (2, 18.943467), (3, 38.180574), (6, 1003.868107),
                                      (7, 28.109683), (9, 167.418216)) v(id, e) USING (id);

-- Expected purchases where the textbook formula struggles, against mpmath.
SELECT ok(pg_temp.near(lifecycle.expected_purchases(lifecycle.bgnbd_model(0.5, 5, 1, 2), 3, 10, 20, 15),
                       0.69641773498926712, 1e-12), 'a = 1 exactly (BG/NBD)');
SELECT ok(pg_temp.near(lifecycle.expected_purchases(lifecycle.mbgnbd_model(0.5, 5, 1, 2), 3, 10, 20, 15),
                       0.81062510730468491, 1e-12), 'a = 1 exactly (MBG/NBD)');
SELECT ok(pg_temp.near(lifecycle.expected_purchases(lifecycle.bgnbd_model(0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 1e-9),
                       3.7660390365616092e-11, 1e-9), 'a horizon of 1e-9 keeps its digits');
SELECT ok(pg_temp.near(lifecycle.expected_purchases(lifecycle.bgnbd_model(0.243, 4.414, 0.793, 2.426), 0, 0, 0, 1e5),
                       29.607861654554952, 1e-10), 'a horizon 20,000 times the customer''s age, a < 1');
SELECT ok(pg_temp.near(lifecycle.expected_purchases(lifecycle.bgnbd_model(0.243, 4.414, 1.793, 2.426), 0, 0, 0, 1e5),
                       3.4439607905482298, 1e-10), 'a horizon 20,000 times the customer''s age, a > 1');
SELECT ok(pg_temp.near(lifecycle.expected_purchases(lifecycle.bgnbd_model(0.3, 2, 5, 1), 0, 0, 10, 50),
                       0.44016266380033656, 1e-12), 'a > r + 2');
SELECT ok(pg_temp.near(lifecycle.expected_purchases(lifecycle.bgnbd_model(0.5, 3, 0.3, 0.4), 0, 0, 10, 20),
                       0.56726809614401227, 1e-12), 'a + b < 1: 2F1 with a negative c');
SELECT ok(pg_temp.near(lifecycle.expected_purchases(lifecycle.mbgnbd_model(0.5, 3, 0.3, 0.4), 0, 0, 10, 20),
                       0.26049808110017252, 1e-12), 'MBG/NBD one-time buyer');
SELECT ok(pg_temp.near(lifecycle.expected_purchases(lifecycle.bgnbd_model(2.5, 3, 0.3, 0.4), 7, 5, 10, 1000),
                       43.470250434381416, 1e-12), 'frequent buyer, long horizon');
SELECT ok(pg_temp.near(lifecycle.expected_purchases(lifecycle.mbgnbd_model(0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 39),
                       1.3404974284912132, 1e-12), 'MBG/NBD at the paper''s parameters');
SELECT is(lifecycle.expected_purchases(lifecycle.bgnbd_model(0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 0), 0::float8,
          'no purchases in a horizon of 0');

-- P(alive): BG/NBD keeps one-time buyers alive, MBG/NBD does not.
SELECT is(lifecycle.p_alive((SELECT bg FROM fits), 0, 0, 38.86), 1::float8, 'BG/NBD: a one-time buyer is alive');
SELECT ok(abs(lifecycle.p_alive((SELECT mbg FROM fits), 0, 0, 38.86) - 0.389715) < 1e-6,
          'MBG/NBD: a one-time buyer is alive with probability 0.3897');

-- CLV is exactly the discounted sum of the periods' expected spend.
SELECT ok(pg_temp.near(lifecycle.clv(bg, gg, 2, 30.43, 38.86, 22.35, 1, 39, 0),
                       lifecycle.expected_purchases(bg, 2, 30.43, 38.86, 39) * lifecycle.expected_spend(gg, 2, 22.35), 1e-14),
          'one undiscounted period: expected purchases times expected spend') FROM fits;
SELECT ok(pg_temp.near(lifecycle.clv(bg, gg, 2, 30.43, 38.86, 22.35, 2, 10, 0.05),
                       (lifecycle.expected_purchases(bg, 2, 30.43, 38.86, 10) / 1.05
                        + (lifecycle.expected_purchases(bg, 2, 30.43, 38.86, 20)
                           - lifecycle.expected_purchases(bg, 2, 30.43, 38.86, 10)) / 1.05 ^ 2)
                       * lifecycle.expected_spend(gg, 2, 22.35), 1e-14),
          'two periods, each discounted at the end of the period') FROM fits;
SELECT is(lifecycle.clv(bg, gg, 2, 30.43, 38.86, 22.35, 0, 10, 0.05), 0::float8, 'no periods, no value') FROM fits;

-- The time unit only rescales alpha (and the log-likelihood by sum(x) ln 7).
SELECT ok(pg_temp.near((bg_days).r, (bg).r, 1e-7) AND pg_temp.near((bg_days).a, (bg).a, 1e-7)
          AND pg_temp.near((bg_days).b, (bg).b, 1e-7) AND pg_temp.near((bg_days).alpha, 7 * (bg).alpha, 1e-7),
          'days instead of weeks: the same r, a, b and 7 times alpha') FROM fits;
SELECT ok(abs((bg_days).log_likelihood - ((bg).log_likelihood - (SELECT sum(frequency) FROM weeks) * ln(7))) < 1e-6,
          'days instead of weeks: log-likelihood lower by sum(x) ln 7') FROM fits;

-- Rows with a NULL are left out; Gamma-Gamma leaves out one-time buyers;
-- weights add up.
SELECT is((SELECT lifecycle.bgnbd_fit(frequency, recency, t)
             FROM (SELECT frequency, recency, t FROM weeks
                   UNION ALL VALUES (NULL, 1, 2), (1, NULL, 2), (1, 1, NULL)) w),
          (SELECT bg FROM fits), 'rows with a NULL are left out');
SELECT is((SELECT lifecycle.gammagamma_fit(frequency, monetary_value) FROM weeks WHERE frequency > 0),
          (SELECT gg FROM fits), 'Gamma-Gamma leaves out one-time buyers');
SELECT is((SELECT lifecycle.bgnbd_fit(frequency, recency, t, 0.5) FROM (SELECT * FROM weeks UNION ALL SELECT * FROM weeks) w),
          (SELECT bg FROM fits), 'every customer twice at weight 0.5 is the same fit');
-- Repeat purchases of no known value (mean spend 0) say nothing about spend.
SELECT is((SELECT lifecycle.gammagamma_fit(frequency, monetary_value)
             FROM (SELECT frequency, monetary_value FROM weeks UNION ALL VALUES (3, 0)) w),
          (SELECT gg FROM fits), 'Gamma-Gamma leaves out repeat buyers with mean spend 0');
SELECT is(lifecycle.expected_spend(gg, 3, 0), NULL, 'no expected spend for repeat purchases of no known value') FROM fits;
SELECT is(lifecycle.clv(bg, gg, 3, 20, 38, 0, 12, 4.345, 0.01), NULL, 'nor a CLV') FROM fits;

-- Fits sharing one transition state in a query, and fits per group.
SELECT is((SELECT row(lifecycle.bgnbd_fit(frequency, recency, t), lifecycle.mbgnbd_fit(frequency, recency, t))::text FROM weeks),
          (SELECT row(bg, mbg)::text FROM fits), 'BG/NBD and MBG/NBD in one query: the same fits');
SELECT is((SELECT array_agg(CASE WHEN repeat THEN (f = (SELECT gg FROM fits))::text ELSE (f).message END ORDER BY repeat)
             FROM (SELECT frequency > 0 AS repeat, lifecycle.gammagamma_fit(frequency, monetary_value) AS f
                     FROM weeks GROUP BY 1) g),
          ARRAY['no customer made a repeat purchase, so spend per purchase cannot be estimated', 'true'],
          'GROUP BY: no estimate for the one-time buyers, the same fit for the repeat buyers');

-- Over a million rows the state compacts as it grows (sorts the new rows and
-- merges equal ones): the same rows as the weighted histories, bit for bit.
SELECT is((SELECT row(lifecycle.bgnbd_fit(frequency, recency, t), lifecycle.gammagamma_fit(frequency, monetary_value))::text
             FROM generate_series(1, 500), weeks),
          (SELECT row(lifecycle.bgnbd_fit(frequency, recency, t, 500), lifecycle.gammagamma_fit(frequency, monetary_value, 500))::text
             FROM weeks),
          '1,178,500 rows of 2,357 histories: the fits of the histories weighted 500');
CREATE TEMP TABLE spread AS
SELECT frequency, recency, t + k * 1e-6 AS t FROM weeks, generate_series(1, 470) k;
CREATE TEMP TABLE spread_fit AS SELECT lifecycle.bgnbd_fit(frequency, recency, t) AS f FROM spread;
SELECT ok((f).converged AND (f).customers = 1107790, '1,107,790 rows, nearly all distinct: converged') FROM spread_fit;
SELECT is((SELECT lifecycle.bgnbd_fit(frequency, recency, t, 0.5) FROM spread, generate_series(1, 2))::text,
          (SELECT f FROM spread_fit)::text,
          'the same rows given twice with weight 0.5: the same fit');

-- Refused input rows: 22023, naming the problem.
SELECT throws_ok($$SELECT lifecycle.bgnbd_fit(-1, 0, 5)$$, '22023', 'frequency must be a non-negative whole number', 'negative frequency');
SELECT throws_ok($$SELECT lifecycle.bgnbd_fit(1.5, 1, 5)$$, '22023', 'frequency must be a non-negative whole number', 'fractional frequency');
SELECT throws_ok($$SELECT lifecycle.bgnbd_fit('NaN', 1, 5)$$, '22023', 'frequency must be a non-negative whole number', 'NaN frequency');
SELECT throws_ok($$SELECT lifecycle.mbgnbd_fit(1, 'NaN', 5)$$, '22023', 'recency must be a non-negative finite number', 'NaN recency');
SELECT throws_ok($$SELECT lifecycle.bgnbd_fit(1, -1, 5)$$, '22023', 'recency must be a non-negative finite number', 'negative recency');
SELECT throws_ok($$SELECT lifecycle.bgnbd_fit(1, 1, 'Infinity')$$, '22023', 'T must be a non-negative finite number', 'infinite T');
SELECT throws_ok($$SELECT lifecycle.bgnbd_fit(1, 6, 5)$$, '22023', 'recency must not exceed T', 'recency above T');
SELECT throws_ok($$SELECT lifecycle.bgnbd_fit(0, 1, 5)$$, '22023', 'recency must be 0 when frequency is 0', 'one-time buyer with a recency');
SELECT throws_ok($$SELECT lifecycle.bgnbd_fit(2, 0, 5)$$, '22023', 'recency must be positive when frequency is positive', 'repeat buyer without a recency');
SELECT throws_ok($$SELECT lifecycle.bgnbd_fit(1, 1, 5, 0)$$, '22023', 'weight must be a positive finite number', 'zero weight');
SELECT throws_ok($$SELECT lifecycle.bgnbd_fit(1, 1, 5, 'NaN')$$, '22023', 'weight must be a positive finite number', 'NaN weight');
SELECT throws_ok($$SELECT lifecycle.gammagamma_fit(1, 10, -2)$$, '22023', 'weight must be a positive finite number', 'negative weight');
SELECT throws_ok($$SELECT lifecycle.gammagamma_fit(2, -1)$$, '22023', 'monetary value must not be negative', 'negative spend');
SELECT throws_ok($$SELECT lifecycle.gammagamma_fit(2, 'Infinity')$$, '22023', 'monetary value must be a finite number', 'infinite spend');
SELECT throws_ok($$SELECT lifecycle.bgnbd_fit(1, 1, 5, w) FROM (VALUES (1e308), (1e308)) v(w)$$, '22003', 'total weight out of range', 'weights overflowing');

-- Refused models and prediction arguments.
SELECT throws_ok($$SELECT lifecycle.bgnbd_model(0, 1, 1, 1)$$, '22023', 'model parameters must be positive finite numbers', 'zero parameter');
SELECT throws_ok($$SELECT lifecycle.gammagamma_model(1, 'Infinity', 1)$$, '22023', 'model parameters must be positive finite numbers', 'infinite parameter');
SELECT throws_ok($$SELECT lifecycle.p_alive(lifecycle.bgnbd_fit(x, 0, 5), 0, 0, 5) FROM (VALUES (0)) v(x)$$,
                 '22023', 'model did not converge', 'predicting with a fit that has no estimate');
SELECT throws_ok($$SELECT lifecycle.p_alive(lifecycle.bgnbd_model(1, 1, 1, 1), 1, 6, 5)$$, '22023', 'recency must not exceed T', 'P(alive) of an impossible history');
SELECT throws_ok($$SELECT lifecycle.expected_purchases(lifecycle.bgnbd_model(1, 1, 1, 1), 1, 1, 5, -1)$$,
                 '22023', 'horizon must be a non-negative finite number', 'negative horizon');
SELECT throws_ok($$SELECT lifecycle.expected_purchases(lifecycle.bgnbd_model(0.243, 4.414, 0.793, 2.426), 0, 0, 0, 1e12)$$,
                 '22003', 'prediction horizon too long for this customer''s age', 'a horizon the series cannot reach');
SELECT throws_ok($$SELECT lifecycle.expected_spend(lifecycle.gammagamma_model(6, 0.9, 15), 0, 0)$$,
                 '22023', 'expected spend is infinite under this model', 'q below 1');
SELECT throws_ok($$SELECT lifecycle.clv(lifecycle.bgnbd_model(1, 1, 1, 1), lifecycle.gammagamma_model(6, 4, 15), 1, 1, 5, 10, -1, 1, 0)$$,
                 '22023', 'number of periods must be between 0 and 1200', 'negative periods');
SELECT throws_ok($$SELECT lifecycle.clv(lifecycle.bgnbd_model(1, 1, 1, 1), lifecycle.gammagamma_model(6, 4, 15), 1, 1, 5, 10, 12, 0, 0)$$,
                 '22023', 'period length must be a positive finite number', 'zero period length');
SELECT throws_ok($$SELECT lifecycle.clv(lifecycle.bgnbd_model(1, 1, 1, 1), lifecycle.gammagamma_model(6, 4, 15), 1, 1, 5, 10, 12, 1, -0.1)$$,
                 '22023', 'discount rate must be a non-negative finite number', 'negative discount rate');

SELECT * FROM finish();
ROLLBACK;
