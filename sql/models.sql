-- Purchase-prediction models, worked on CDNOW (Fader, Hardie & Lee 2005,
-- "Counting Your Customers the Easy Way"): fit BG/NBD, MBG/NBD and
-- Gamma-Gamma inside the database, then predict per customer.
-- Every figure below is a published value or is reproduced independently
-- by test/reference/models.py (mpmath, 30 digits); figures are rounded so
-- the output does not depend on a platform's last bits.
SET client_min_messages = warning;
CREATE SCHEMA models_walkthrough;
SET search_path = models_walkthrough, public;

-- The CDNOW sample: 2,357 customers' orders from January 1997 to June 1998.
-- Calibration period up to 1997-09-30, times in weeks.
CREATE TABLE cdnow_lines (line text);
\copy cdnow_lines FROM 'test/fixtures/CDNOW_sample.txt'
CREATE TABLE cdnow AS
SELECT f[2]::int AS customer, to_date(f[3], 'YYYYMMDD') AS day, f[5]::numeric AS dollars
  FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM cdnow_lines) s;
CREATE TABLE customers AS
SELECT customer, (lifecycle.btyd(lifecycle.rfm_agg(day, dollars), '1997-09-30', 'week')).*
  FROM cdnow WHERE day <= '1997-09-30' GROUP BY customer;

-- 1. BG/NBD.  The published maximum-likelihood estimate is r = 0.2426,
-- alpha = 4.4136, a = 0.7929, b = 2.4259, log-likelihood -9582.43; lifetimes
-- reports standard errors 0.013, 0.378, 0.186, 0.705.
CREATE TABLE bg AS
SELECT lifecycle.bgnbd_fit(frequency, recency, t) AS model FROM customers;
SELECT round(r::numeric, 4) AS r, round(alpha::numeric, 4) AS alpha,
       round(a::numeric, 4) AS a, round(b::numeric, 4) AS b,
       round(log_likelihood::numeric, 2) AS log_likelihood, customers, converged, message
  FROM bg, LATERAL (SELECT (model).*) m;
SELECT round(r_se::numeric, 3) AS r_se, round(alpha_se::numeric, 3) AS alpha_se,
       round(a_se::numeric, 3) AS a_se, round(b_se::numeric, 3) AS b_se
  FROM bg, LATERAL (SELECT (model).*) m;

-- 2. MBG/NBD (Batislam et al. 2007).  BTYDplus: r = 0.525, alpha = 6.183,
-- a = 0.891, b = 1.614.
CREATE TABLE mbg AS
SELECT lifecycle.mbgnbd_fit(frequency, recency, t) AS model FROM customers;
SELECT round(r::numeric, 3) AS r, round(alpha::numeric, 3) AS alpha,
       round(a::numeric, 3) AS a, round(b::numeric, 3) AS b,
       round(log_likelihood::numeric, 2) AS log_likelihood, converged
  FROM mbg, LATERAL (SELECT (model).*) m;

-- 3. Gamma-Gamma on the 946 repeat buyers (one-time buyers are left out by
-- the aggregate).  lifetimes: p = 6.25, q = 3.74, gamma = 15.44.
CREATE TABLE gg AS
SELECT lifecycle.gammagamma_fit(frequency, monetary_value) AS model FROM customers;
SELECT round(p::numeric, 2) AS p, round(q::numeric, 2) AS q, round(gamma::numeric, 2) AS gamma,
       round(log_likelihood::numeric, 2) AS log_likelihood, customers, converged
  FROM gg, LATERAL (SELECT (model).*) m;

-- 4. Per customer.  The paper's customer 1 (x = 2, t_x = 30.43, T = 38.86)
-- at the paper's parameters: P(alive) = 0.727, 1.226 purchases expected in
-- the next 39 weeks.
SELECT round(lifecycle.p_alive(m, 2, 30.43, 38.86)::numeric, 3) AS p_alive,
       round(lifecycle.expected_purchases(m, 2, 30.43, 38.86, 39)::numeric, 3) AS next_39_weeks
  FROM (SELECT lifecycle.bgnbd_model(0.243, 4.414, 0.793, 2.426) AS m) given;

-- A few customers under the fitted models: probability alive, purchases in
-- the next 39 weeks, expected spend per purchase, and lifetime value over
-- 12 periods of 4.345 weeks (about a year) discounted 1 % per period.
SELECT c.customer, c.frequency, round(c.recency::numeric, 2) AS recency, round(c.t::numeric, 2) AS t,
       round(c.monetary_value, 2) AS monetary_value,
       round(lifecycle.p_alive(bg.model, frequency, recency, t)::numeric, 4) AS p_alive,
       round(lifecycle.expected_purchases(bg.model, frequency, recency, t, 39)::numeric, 4) AS next_39_weeks,
       round(lifecycle.expected_spend(gg.model, frequency, monetary_value)::numeric, 2) AS spend,
       round(lifecycle.clv(bg.model, gg.model, frequency, recency, t, monetary_value,
                           periods => 12, period_length => 4.345, discount_rate => 0.01)::numeric, 2) AS clv
  FROM customers c, bg, gg
 WHERE c.customer IN (1, 2, 3, 6, 9, 18)
 ORDER BY c.customer;

-- The model's forecast for the whole sample over the 39-week holdout period
-- against what the customers actually did (purchase days, as in calibration).
SELECT round(sum(lifecycle.expected_purchases(bg.model, frequency, recency, t, 39))) AS forecast,
       (SELECT count(DISTINCT (customer, day)) FROM cdnow
         WHERE day BETWEEN '1997-10-01' AND '1998-06-30') AS actual
  FROM customers, bg;

-- MBG/NBD lets a one-time buyer be gone already; BG/NBD does not.
SELECT round(lifecycle.p_alive(mbg.model, 0, 0, 38.86)::numeric, 4) AS mbgnbd,
       lifecycle.p_alive(bg.model, 0, 0, 38.86) AS bgnbd
  FROM bg, mbg;

-- 5. Weighted rows: identical histories compressed to one row and a count
-- give exactly the same fit.
SELECT (SELECT model FROM bg) =
       (SELECT lifecycle.bgnbd_fit(frequency, recency, t, n)
          FROM (SELECT frequency, recency, t, count(*) AS n FROM customers
                 GROUP BY frequency, recency, t) compressed) AS same_fit;

-- 6. Data without an estimate say so instead of returning numbers.
SELECT converged, message FROM (
  SELECT (lifecycle.bgnbd_fit(x, t_x, t)).* FROM (VALUES (0, 0, 10), (0, 0, 12)) v(x, t_x, t)) f;
SELECT converged, message FROM (
  SELECT (lifecycle.gammagamma_fit(x, m)).* FROM (VALUES (0, 0), (0, 0)) v(x, m)) f;
-- Three customers who all keep buying steadily: no maximum inside the
-- parameter space (the message goes on to name the parameter running off).
SELECT converged, split_part(message, ':', 1) AS message, r IS NULL AS no_estimate FROM (
  SELECT (lifecycle.bgnbd_fit(x, t_x, t)).* FROM (VALUES (10, 50, 50), (10, 49, 50), (12, 50, 50)) v(x, t_x, t)) f;
-- and predicting with such a fit is an error, not a number.
SELECT lifecycle.p_alive(lifecycle.bgnbd_fit(x, t_x, t), 1, 1, 2) FROM (VALUES (0, 0, 10)) v(x, t_x, t);
-- No rows at all: no fit.
SELECT lifecycle.bgnbd_fit(frequency, recency, t) IS NULL AS no_fit FROM customers WHERE false;

-- 7. Rows that cannot be a customer's history are refused.
SELECT lifecycle.bgnbd_fit(x, t_x, t) FROM (VALUES (2, 40.0, 38.86)) v(x, t_x, t);
SELECT lifecycle.bgnbd_fit(x, t_x, t) FROM (VALUES (1.5, 10, 38.86)) v(x, t_x, t);
SELECT lifecycle.bgnbd_fit(x, t_x, t, w) FROM (VALUES (1, 10, 38.86, 0)) v(x, t_x, t, w);
SELECT lifecycle.gammagamma_fit(x, m) FROM (VALUES (3, -5)) v(x, m);

-- 8. A parallel plan (partial states serialized, shipped and combined) gives
-- the same fits as a serial one.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
CREATE FUNCTION plan_has(query text, pattern text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    IF line ~ pattern THEN RETURN true; END IF;
  END LOOP;
  RETURN false;
END $$;
SELECT plan_has('SELECT lifecycle.bgnbd_fit(frequency, recency, t) FROM customers', 'Partial Aggregate') AS parallel,
       (SELECT lifecycle.bgnbd_fit(frequency, recency, t) FROM customers) = (SELECT model FROM bg) AS same_bgnbd,
       (SELECT lifecycle.mbgnbd_fit(frequency, recency, t) FROM customers) = (SELECT model FROM mbg) AS same_mbgnbd,
       (SELECT lifecycle.gammagamma_fit(frequency, monetary_value) FROM customers) = (SELECT model FROM gg) AS same_gammagamma;

DROP SCHEMA models_walkthrough CASCADE;
