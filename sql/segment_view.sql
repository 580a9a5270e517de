-- The materialized segment view: one row per customer over the user's own
-- orders table, refreshed by a scheduler, read by BI tools.
SET client_min_messages = warning;
SET DateStyle = ISO;
CREATE SCHEMA "Shop; Data";
SET search_path = "Shop; Data", public;

-- Hostile names: spaces, capitals, a quote, a semicolon.
CREATE TABLE "Shop Orders" ("Customer ""ID""" text, "Ordered; At" timestamptz, "Amount $" numeric);
INSERT INTO "Shop Orders" VALUES
  ('ann', '2025-06-01 12:00+00', 50), ('ann', '2025-06-15 12:00+00', 30),
  ('ann', '2025-06-20 12:00+00', -10),           -- refund: nets monetary, not activity
  ('ann', '2025-07-05 12:00+00', 1000),          -- after the as-of day: not counted
  ('bob', '2025-05-01 12:00+00', 100),
  ('cat', '2024-01-10 12:00+00', 20), ('cat', '2025-06-20 12:00+00', 40),
  ('dan', '2025-01-01 12:00+00', 10), ('dan', '2025-02-01 12:00+00', 10),
  ('eve', '2024-11-01 12:00+00', 25),
  ('fay', '2024-06-01 12:00+00', 60),
  ('gus', '2025-05-07 12:00+00', 5), ('gus', '2025-05-14 12:00+00', 5),
  ('gus', '2025-05-21 12:00+00', 5), ('gus', '2025-05-28 12:00+00', 5),
  ('hal', '2025-06-10 12:00+00', -5),            -- only a refund: no purchase
  (NULL,  '2025-06-01 12:00+00', 99);            -- guest checkout: left out, counted
CREATE TABLE "Known Customers" ("Key" text);
INSERT INTO "Known Customers" VALUES ('ann'), ('ivy');   -- ivy never bought: a prospect

-- The view name is an identifier, quoted as in SQL; unqualified, it goes to the
-- schema of the orders relation.
SELECT lifecycle.create_segment_view('"Segments ""A"""', '"Shop Orders"',
         customer_column => 'Customer "ID"', time_column => 'Ordered; At', amount_column => 'Amount $',
         customers => '"Known Customers"', customers_key => 'Key', as_of => '2025-06-30');

-- Stages by the rules of PRODUCT.md section 3, as of 2025-06-30:
-- ann R=15, two purchase days 14 apart: active; bob one purchase day: new;
-- cat back after a 527-day gap: reactivated; dan R=149: at_risk; eve R=241:
-- dormant; fay R=394: churned; gus buys every 7 days, silent 33 > max(3*7, 30):
-- at_risk; hal (refund only) and ivy (no order): prospect.
SELECT "Customer ""ID""", as_of, stage, orders, purchase_days, monetary, refunds,
       days_since_last_order, first_purchase, last_purchase
  FROM "Segments ""A""" ORDER BY 1;

-- The default score method, bands, scores recency by the stage thresholds:
-- 5 up to 45 days, 4 up to 90, 3 up to 135, 2 up to 180, 1 beyond (dormant
-- and churned), so that segments agree with stages.
SELECT "Customer ""ID""", stage, days_since_last_order, r_score FROM "Segments ""A""" ORDER BY 1;
-- Scores and segments are the public functions applied to the view's own columns.
WITH b AS (SELECT lifecycle.rfm_breaks(days_since_last_order, orders, monetary, 'bands') AS k FROM "Segments ""A""")
SELECT count(*) AS scored,
       count(*) FILTER (WHERE r_score = lifecycle.r_score(days_since_last_order, b.k)
                          AND f_score = lifecycle.f_score(orders, b.k)
                          AND m_score = lifecycle.m_score(monetary, b.k)
                          AND segment = lifecycle.segment(r_score, f_score, m_score, 'default')) AS consistent
  FROM "Segments ""A""", b WHERE days_since_last_order IS NOT NULL;
SELECT count(*) AS unscored FROM "Segments ""A"""
 WHERE days_since_last_order IS NULL AND r_score IS NULL AND segment IS NULL;

-- BTYD columns (days): frequency = purchase days - 1, recency = last - first, T = as_of - first.
SELECT "Customer ""ID""", btyd_frequency, btyd_recency, btyd_t, btyd_monetary_value
  FROM "Segments ""A""" WHERE "Customer ""ID""" IN ('ann', 'gus') ORDER BY 1;

-- The companion views agree with plain SQL over the view.
SELECT (SELECT count(*) FROM (
          SELECT stage, customers, orders, revenue FROM "Segments ""A""_stage_summary"
          EXCEPT
          SELECT stage, count(*), sum(orders), sum(monetary) FROM "Segments ""A""" GROUP BY stage) d) AS stage_diff,
       (SELECT count(*) FROM (
          SELECT segment, customers, orders, revenue FROM "Segments ""A""_segment_summary"
          EXCEPT
          SELECT segment, count(*), sum(orders), sum(monetary) FROM "Segments ""A"""
           WHERE segment IS NOT NULL GROUP BY segment) d) AS segment_diff,
       (SELECT sum(share_pct) FROM "Segments ""A""_stage_summary") AS stage_share_total;
-- June 2025, as lifecycle.retention_metrics counts it: ann (2 orders, 80, and a
-- 10 refund), cat (40), hal (a 5 refund): 2 buyers, 3 orders, revenue 120 before
-- refunds, 1 repeat customer, AOV 40, customer value 60; 2 refunds, 15 refunded,
-- net revenue 105.
SELECT month, customers, orders, revenue, repeat_customers, repeat_purchase_rate_pct,
       purchase_frequency, aov, customer_value, refunds, refunded, net_revenue
  FROM "Segments ""A""_retention_monthly" WHERE month = '2025-06-01';
-- BI tools size a numeric column by its declared precision and scale: the
-- companions' percentages are numeric(5,2), their averages numeric(38,2),
-- and only money totals (exact sums) are unconstrained.
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relname LIKE 'Segments "A"\__%' AND c.relkind = 'v' AND a.attnum > 0 AND a.atttypid = 'numeric'::regtype
 ORDER BY c.relname, a.attnum;

-- The run history: the build is run 1; guest orders are counted.
SELECT outcome, as_of, customers, guest_orders FROM lifecycle.refresh_runs ORDER BY run_id;
SELECT stage, customers, revenue FROM lifecycle.stage_history ORDER BY stage;

-- Settings change at the next refresh, whoever runs it: a later as-of day and a
-- longer churn threshold.  As of 2025-07-31 with churn_days 400: fay (R=425)
-- is churned still, eve (R=272) dormant, ann gains her July order.
UPDATE lifecycle.segment_views SET as_of = '2025-07-31', churn_days = 400;
CALL lifecycle.refresh_segment_view('"Segments ""A"""');
SELECT "Customer ""ID""", stage, orders, days_since_last_order FROM "Segments ""A""" ORDER BY 1;
SELECT outcome, as_of, customers FROM lifecycle.refresh_runs ORDER BY run_id;
-- Transitions between the last two refreshes (only the moves).
SELECT from_stage, to_stage, customers FROM "Segments ""A""_transitions"
 WHERE from_stage IS DISTINCT FROM to_stage ORDER BY 1, 2;

-- The refresh works whatever the search_path.
SET search_path = pg_catalog, pg_temp;
CALL lifecycle.refresh_segment_view('"Shop; Data"."Segments ""A"""');
SELECT count(*) FROM "Shop; Data"."Segments ""A""";
SET search_path = "Shop; Data", public;

-- ntile scoring on request: ties broken by the customer key.
UPDATE lifecycle.segment_views SET score_method = 'ntile';
CALL lifecycle.refresh_segment_view('"Segments ""A"""');
SELECT count(*) FILTER (WHERE r_score IS NOT NULL) AS scored, min(r_score), max(r_score)
  FROM "Segments ""A""";

-- Errors, next to the happy path.
\set VERBOSITY terse
SELECT lifecycle.create_segment_view('v2', '"Shop Orders"', 'nope', 'Ordered; At', 'Amount $');
SELECT lifecycle.create_segment_view('v2', '"Shop Orders"', 'Customer "ID"', 'Amount $', 'Amount $');
SELECT lifecycle.create_segment_view('v2', '"Shop Orders"', 'Customer "ID"', 'Ordered; At', 'Customer "ID"');
SELECT lifecycle.create_segment_view('v2', '"Shop Orders"', 'Customer "ID"', 'Ordered; At', 'Amount $', score_method => 'median');
SELECT lifecycle.create_segment_view('v2', '"Shop Orders"', 'Customer "ID"', 'Ordered; At', 'Amount $', rule_set => 'nonesuch');
SELECT lifecycle.create_segment_view('v2', '"Shop Orders"', 'Customer "ID"', 'Ordered; At', 'Amount $', time_zone => 'Mars/Base');
SELECT lifecycle.create_segment_view('v2', '"Shop Orders"', 'Customer "ID"', 'Ordered; At', 'Amount $', active_days => 200);
SELECT lifecycle.create_segment_view('"Segments ""A"""', '"Shop Orders"', 'Customer "ID"', 'Ordered; At', 'Amount $');
SELECT lifecycle.create_segment_view('Segments "A"', '"Shop Orders"', 'Customer "ID"', 'Ordered; At', 'Amount $');
CALL lifecycle.refresh_segment_view('"Shop Orders"');
CREATE ROLE lifecycle_outsider;
GRANT USAGE ON SCHEMA "Shop; Data" TO lifecycle_outsider;
SET ROLE lifecycle_outsider;
SELECT lifecycle.create_segment_view('v3', '"Shop Orders"', 'Customer "ID"', 'Ordered; At', 'Amount $');
RESET ROLE;
\set VERBOSITY default

-- Dropping a segment view removes the view, its companions, settings and history.
SELECT lifecycle.drop_segment_view('"Segments ""A"""');
SELECT count(*) AS relations FROM pg_class WHERE relname LIKE 'Segments "A"%';
SELECT (SELECT count(*) FROM lifecycle.segment_views) AS settings,
       (SELECT count(*) FROM lifecycle.refresh_runs) AS runs,
       (SELECT count(*) FROM lifecycle.transition_history) AS transitions;

REVOKE USAGE ON SCHEMA "Shop; Data" FROM lifecycle_outsider;
DROP ROLE lifecycle_outsider;
RESET search_path;
DROP SCHEMA "Shop; Data" CASCADE;
