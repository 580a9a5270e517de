-- The demo report: what lifecycle finds in a store.  Expects psql variables
-- orders (relation), customer, time, amount (its columns), zone, as_of (a
-- date, or empty for today) and view (the segment view to create).
\pset footer off
\set QUIET on
SET client_min_messages = warning;

-- as of the given day, else the day of the last order (in the zone): on historical data "today"
-- would make every customer churned
SELECT coalesce(nullif(:'as_of', ''),
                (SELECT CASE WHEN pg_typeof(m) = 'timestamp with time zone'::regtype
                             THEN lifecycle.local_day(m::text::timestamptz, :'zone') ELSE m::text::date END
                   FROM (SELECT max(:"time") AS m FROM :orders) last_order)::text)::date AS as_of_day \gset
SELECT (:'as_of_day'::date - 90) AS earlier_day \gset

-- Build the view as of 90 days earlier, then move it to the as-of day: the
-- refresh history then holds the stage transitions of the last 90 days.
SELECT lifecycle.create_segment_view(:'view', :'orders', :'customer', :'time', :'amount',
                                     time_zone => :'zone', as_of => :'earlier_day', models => true)
       AS segment_view \gset
SELECT view_name AS settings_key,
       (lifecycle._companion_names(view_name))[1] AS stage_summary,
       (lifecycle._companion_names(view_name))[2] AS segment_summary,
       (lifecycle._companion_names(view_name))[3] AS retention_monthly,
       (lifecycle._companion_names(view_name))[4] AS transitions
  FROM lifecycle.segment_views WHERE to_regclass(view_name) = :'segment_view'::regclass \gset
UPDATE lifecycle.segment_views SET as_of = :'as_of_day' WHERE view_name = :'settings_key';
CALL lifecycle.refresh_segment_view(:'settings_key');

\echo
\echo '== The store, as of the last refresh'
SELECT r.as_of, r.customers, sum(v.orders) AS orders, sum(v.refunds) AS refunds,
       sum(v.monetary) AS net_revenue, r.guest_orders AS guest_orders_left_out,
       round(extract(epoch FROM r.duration)::numeric, 2) AS refresh_seconds
  FROM lifecycle.refresh_runs r, :segment_view v
 WHERE r.run_id = (SELECT max(run_id) FROM lifecycle.refresh_runs WHERE view_name = :'settings_key')
 GROUP BY r.as_of, r.customers, r.guest_orders, r.duration;

\echo '== Customers by lifecycle stage'
SELECT * FROM :stage_summary ORDER BY stage;

\echo '== RFM segments'
SELECT segment, customers, share_pct, orders, revenue, round(aov, 2) AS aov
  FROM :segment_summary ORDER BY revenue DESC;

\echo '== Retention, last six months'
SELECT month, customers, orders, revenue, repeat_customers, repeat_purchase_rate_pct,
       purchase_frequency, aov, customer_value
  FROM :retention_monthly WHERE month <= :'as_of_day' ORDER BY month DESC LIMIT 6;

\echo '== Stage transitions over the last 90 days (customers moving from one stage to another)'
SELECT from_stage, to_stage, customers FROM :transitions LIMIT 12;

\echo '== Purchase models fitted at the last refresh (time unit: days)'
SELECT 'BG/NBD' AS model, round(bgnbd_r::numeric, 4) AS r, round(bgnbd_alpha::numeric, 3) AS alpha,
       round(bgnbd_a::numeric, 4) AS a, round(bgnbd_b::numeric, 4) AS b,
       bgnbd_customers AS customers, bgnbd_converged AS converged,
       round(bgnbd_log_likelihood::numeric, 1) AS log_likelihood
  FROM lifecycle.model_fits   -- lifecycle.model_history in plain columns
 WHERE run_id = (SELECT max(run_id) FROM lifecycle.refresh_runs WHERE view_name = :'settings_key');
SELECT 'Gamma-Gamma' AS model, round(gammagamma_p::numeric, 3) AS p, round(gammagamma_q::numeric, 3) AS q,
       round(gammagamma_gamma::numeric, 3) AS gamma, gammagamma_customers AS repeat_buyers,
       gammagamma_converged AS converged
  FROM lifecycle.model_fits
 WHERE run_id = (SELECT max(run_id) FROM lifecycle.refresh_runs WHERE view_name = :'settings_key');

-- the fits in words: the mean purchase rate of an active customer is r / alpha a day, the
-- mean chance to drop out after a purchase a / (a + b), the mean spend of a purchase day
-- p gamma / (q - 1)
SELECT format('In words: while active, a customer buys about every %s days; after each purchase about %s %% drop out; a purchase day is worth %s on average.',
              round(((purchases).alpha / (purchases).r)::numeric, 1),
              round((100 * (purchases).a / ((purchases).a + (purchases).b))::numeric, 1),
              round(((spend).p * (spend).gamma / ((spend).q - 1))::numeric, 2)) AS models_in_words
  FROM lifecycle.model_history
 WHERE run_id = (SELECT max(run_id) FROM lifecycle.refresh_runs WHERE view_name = :'settings_key')
   AND (purchases).converged AND (spend).converged AND (spend).q > 1;

\echo '== Ten customers most worth a win-back campaign (at risk or dormant, highest lifetime value)'
\echo '   clv: expected spend over the next 4 quarters of 91 days, discounted 2.5 % a quarter'
SELECT :"customer" AS customer, stage, segment, days_since_last_order, orders, monetary,
       round(p_alive::numeric, 3) AS p_alive, churn_risk, round(expected_purchases::numeric, 2) AS purchases_next_90_days,
       round(clv::numeric, 2) AS clv, recommended_action
  FROM :segment_view WHERE stage IN ('at_risk', 'dormant')
 ORDER BY clv DESC NULLS LAST, monetary DESC LIMIT 10;
