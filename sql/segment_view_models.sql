-- Purchase models in the segment view: with models on, each refresh fits
-- BG/NBD and Gamma-Gamma over the view's customers, keeps the fits, and fills
-- p_alive, expected_purchases, expected_spend and clv.  On CDNOW (weeks,
-- calibration end 1997-09-30) the fits are the published ones.
SET client_min_messages = warning;
CREATE SCHEMA cdnow_view;
SET search_path = cdnow_view, public;
CREATE TABLE lines (line text);
\copy lines FROM 'test/fixtures/CDNOW_sample.txt'
CREATE TABLE orders AS
SELECT f[2]::int AS customer, to_date(f[3], 'YYYYMMDD') AS day, f[5]::numeric AS dollars
  FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM lines) s;

SELECT lifecycle.create_segment_view('segs', 'orders', 'customer', 'day', 'dollars',
         as_of => '1997-09-30', btyd_unit => 'week', models => true,
         prediction_days => 273, clv_periods => 4, clv_period_days => 91, clv_discount_rate => 0.03)
       IS NOT NULL AS created;

-- The fits kept for the build: BG/NBD r = 0.2426, alpha = 4.4136, a = 0.7929,
-- b = 2.4259 (log-likelihood -9582.43); Gamma-Gamma p = 6.25, q = 3.74, gamma = 15.44.
SELECT round((purchases).r::numeric, 4) AS r, round((purchases).alpha::numeric, 4) AS alpha,
       round((purchases).a::numeric, 4) AS a, round((purchases).b::numeric, 4) AS b,
       round((purchases).log_likelihood::numeric, 2) AS ll, (purchases).customers,
       round((spend).p::numeric, 2) AS p, round((spend).q::numeric, 2) AS q,
       round((spend).gamma::numeric, 2) AS gamma, (spend).customers AS repeat_buyers
  FROM lifecycle.model_history;

-- The refresh keeps the fits the facts function predicted with (it fits once):
-- the same as the fitting aggregates make over the view's BTYD columns, to the bit.
SELECT m.purchases::text = (SELECT lifecycle.bgnbd_fit(btyd_frequency, btyd_recency, btyd_t)::text
                              FROM segs WHERE btyd_frequency IS NOT NULL) AS purchases_as_refitted,
       m.spend::text = (SELECT lifecycle.gammagamma_fit(btyd_frequency, btyd_monetary_value::double precision)::text
                          FROM segs WHERE btyd_frequency IS NOT NULL) AS spend_as_refitted
  FROM lifecycle.model_history m;

-- lifecycle.model_fits gives BI tools the same fits in plain columns, one per
-- field of the model types, with the refresh's view, as-of day and unit.
SELECT f.view_name, f.as_of, f.btyd_unit_days,
       (f.bgnbd_r, f.bgnbd_alpha, f.bgnbd_a, f.bgnbd_b, f.bgnbd_r_se, f.bgnbd_alpha_se, f.bgnbd_a_se, f.bgnbd_b_se,
        f.bgnbd_log_likelihood, f.bgnbd_customers, f.bgnbd_converged, f.bgnbd_iterations, f.bgnbd_message)::lifecycle.bgnbd
         IS NOT DISTINCT FROM m.purchases AS purchases_match,
       (f.gammagamma_p, f.gammagamma_q, f.gammagamma_gamma, f.gammagamma_p_se, f.gammagamma_q_se, f.gammagamma_gamma_se,
        f.gammagamma_log_likelihood, f.gammagamma_customers, f.gammagamma_converged, f.gammagamma_iterations,
        f.gammagamma_message)::lifecycle.gammagamma IS NOT DISTINCT FROM m.spend AS spend_match,
       (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = 'lifecycle.model_fits'::regclass AND a.attnum > 0
           AND col_description(a.attrelid, a.attnum) IS NULL) AS columns_without_comment
  FROM lifecycle.model_fits f JOIN lifecycle.model_history m USING (run_id);

-- Customer 1 (x = 2, t_x = 30.43, T = 38.86): P(alive) 0.727 and 1.226 purchases
-- expected in the next 39 weeks (273 days), as in the paper.
SELECT customer, btyd_frequency, round(btyd_recency::numeric, 2) AS recency, round(btyd_t::numeric, 2) AS t,
       round(p_alive::numeric, 3) AS p_alive, round(expected_purchases::numeric, 3) AS expected_purchases
  FROM segs WHERE customer = 1;

-- The columns are the public functions at the kept fits.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE p_alive = lifecycle.p_alive(h.purchases, btyd_frequency, btyd_recency, btyd_t)
                          AND expected_purchases = lifecycle.expected_purchases(h.purchases, btyd_frequency,
                                                     btyd_recency, btyd_t, 39)
                          AND expected_spend = lifecycle.expected_spend(h.spend, btyd_frequency, btyd_monetary_value)
                          AND clv = lifecycle.clv(h.purchases, h.spend, btyd_frequency, btyd_recency, btyd_t,
                                                  btyd_monetary_value, 4, 13, 0.03)) AS consistent
  FROM segs, lifecycle.model_history h;

-- Past the last order (1998-06-30), then a week later, incrementally (no
-- order changed): each row is recomputed from the row itself, not from its
-- customer's state, with the predictions as of the new day; the same rows as
-- a twin view that reads every order.
UPDATE lifecycle.segment_views SET as_of = '1998-07-01' WHERE view_name = 'cdnow_view.segs';
CALL lifecycle.refresh_segment_view('segs');
UPDATE lifecycle.segment_views SET as_of = '1998-07-08' WHERE view_name = 'cdnow_view.segs';
CALL lifecycle.refresh_segment_view('segs');
SELECT lifecycle.create_segment_view('twin', 'orders', 'customer', 'day', 'dollars',
         as_of => '1998-07-08', btyd_unit => 'week', models => true,
         prediction_days => 273, clv_periods => 4, clv_period_days => 91, clv_discount_rate => 0.03,
         incremental => false)
       IS NOT NULL AS created;
SELECT r.full_read, r.rows_read, count(s.p_alive) AS p_alive, count(s.clv) AS clv,
       (SELECT count(*) FROM ((TABLE segs EXCEPT TABLE twin) UNION ALL (TABLE twin EXCEPT TABLE segs)) d) AS differences
  FROM segs s,
       (SELECT * FROM lifecycle.refresh_runs WHERE view_name = 'cdnow_view.segs' ORDER BY run_id DESC LIMIT 1) r
 GROUP BY r.full_read, r.rows_read;
SELECT lifecycle.drop_segment_view('twin');

-- Models off: the columns are NULL and the refresh keeps no new fit (the build's stays).
UPDATE lifecycle.segment_views SET models = false;
CALL lifecycle.refresh_segment_view('segs');
SELECT count(p_alive) AS p_alive, count(clv) AS clv, (SELECT count(*) FROM lifecycle.model_history) AS fits FROM segs;

SELECT lifecycle.drop_segment_view('segs');
RESET search_path;
DROP SCHEMA cdnow_view CASCADE;
