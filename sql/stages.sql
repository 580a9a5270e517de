-- Lifecycle stages: lifecycle.stage(summary, as_of, thresholds...).
SET client_min_messages = warning;
CREATE SCHEMA stages_test;  -- this script's tables, dropped at the end
SET search_path = stages_test;
SET DateStyle = ISO;

-- A small store, looked at on 2024-06-30.  Each customer shows one rule.
CREATE TABLE customers (customer text PRIMARY KEY);
CREATE TABLE orders (customer text, ordered date, amount numeric);
INSERT INTO customers VALUES ('quinn'), ('pam'), ('ned'), ('ada'), ('sam'), ('rae'),
                             ('ari'), ('dot'), ('cal');
INSERT INTO orders VALUES
  ('pam', '2024-06-10', -20),                       -- only a refund: no purchase yet
  ('ned', '2024-06-01', 30),                        -- one purchase, 29 days ago
  ('ada', '2024-05-05', 10), ('ada', '2024-05-19', 10),
  ('ada', '2024-06-02', 10), ('ada', '2024-06-16', 10),  -- every 14 days, last 14 days ago
  ('sam', '2024-04-30', 5), ('sam', '2024-05-07', 5), ('sam', '2024-05-14', 5),
  ('sam', '2024-05-21', 5), ('sam', '2024-05-28', 5),    -- weekly, then 33 days of silence
  ('rae', '2023-08-01', 50), ('rae', '2024-05-27', 60),  -- back after a 300-day gap
  ('ari', '2024-03-01', 40),                        -- 121 days ago
  ('dot', '2023-12-01', 40),                        -- 212 days ago
  ('cal', '2023-06-30', 40);                        -- 366 days ago

-- quinn never ordered (NULL summary) and pam has only a refund: prospects.
-- sam is the source's example: 33 days since the last order when they usually
-- buy every 7 days is overdue (33 > max(3 x 7, 30)).  rae bought again after
-- a 300-day gap (> churn_days 270): reactivated.
SELECT c.customer,
       lifecycle.days_since_last_order(s.summary, '2024-06-30') AS days_since_last_order,
       (s.summary).purchase_days,
       lifecycle.mean_interval_days(s.summary) AS mean_interval_days,
       lifecycle.stage(s.summary, '2024-06-30') AS stage
  FROM customers c
  LEFT JOIN (SELECT customer, lifecycle.rfm_agg(ordered, amount) AS summary
               FROM orders GROUP BY customer) s USING (customer)
 ORDER BY stage, c.customer;

-- The cadence rule switched off (cadence_factor NULL): sam is active again.
SELECT lifecycle.stage(lifecycle.rfm_agg(ordered, amount), '2024-06-30',
                       cadence_factor => NULL) AS sam_without_cadence
  FROM orders WHERE customer = 'sam';

-- A faster store: active 30 days, dormant after 60, churned after 90.
-- ned (29 days) stays new; sam (33), rae (34) become at_risk; ari (121) churns.
SELECT customer,
       lifecycle.stage(lifecycle.rfm_agg(ordered, amount), '2024-06-30',
                       active_days => 30, dormant_days => 60, churn_days => 90) AS stage
  FROM orders GROUP BY customer ORDER BY customer;

-- A gentler cadence: overdue only beyond 5 x the mean interval and 40 days.
-- sam (33 days, every 7) is active again; ada (14 days, every 14) too.
SELECT customer,
       lifecycle.stage(lifecycle.rfm_agg(ordered, amount), '2024-06-30',
                       cadence_factor => 5, cadence_min_days => 40) AS stage
  FROM orders WHERE customer IN ('ada', 'sam') GROUP BY customer ORDER BY customer;

-- Stages are a pure function of the orders up to the as-of date: on
-- 2024-01-01 rae had one purchase 153 days before (at_risk), cal 185 (dormant).
SELECT customer,
       lifecycle.stage(lifecycle.rfm_agg(ordered, amount), '2024-01-01') AS stage
  FROM orders WHERE ordered <= '2024-01-01' GROUP BY customer ORDER BY customer;

-- Errors: every input gives a stage or one of these.
SELECT lifecycle.stage(lifecycle.rfm_agg(ordered, amount), '2024-05-01')
  FROM orders WHERE customer = 'ned';
SELECT lifecycle.stage(NULL, NULL);
SELECT lifecycle.stage(NULL, 'infinity');
SELECT lifecycle.stage(NULL, '2024-06-30', active_days => NULL);
SELECT lifecycle.stage(NULL, '2024-06-30', active_days => 0);
SELECT lifecycle.stage(NULL, '2024-06-30', active_days => 200);
SELECT lifecycle.stage(NULL, '2024-06-30', churn_days => 100);
SELECT lifecycle.stage(NULL, '2024-06-30', cadence_factor => 'NaN');
SELECT lifecycle.stage(NULL, '2024-06-30', cadence_min_days => -1);


RESET search_path;
DROP SCHEMA stages_test CASCADE;
