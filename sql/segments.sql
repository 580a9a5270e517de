-- Named RFM segments: ordered rule tables (lifecycle.segment_rules), the
-- shipped default and classic rule sets, lifecycle.segment and segment_map.
SET client_min_messages = warning;
CREATE SCHEMA segments_test;  -- this script's tables, dropped at the end
SET search_path = segments_test;

-- The two shipped rule sets, in their order (PRODUCT.md section 4).
SELECT rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max
  FROM lifecycle.segment_rules ORDER BY rule_set, position;

-- The first matching rule wins; no match is Others.
SELECT lifecycle.segment(5, 5, 5) AS "555",       -- Champions
       lifecycle.segment(4, 4, 4) AS "444",       -- Potential Loyalist (rule 2) before Loyal (rule 3)
       lifecycle.segment(2, 2, 2) AS "222",       -- Loyal Customers
       lifecycle.segment(3, 3, 1) AS "331",       -- only About To Sleep matches
       lifecycle.segment(1, 1, 1) AS "111",       -- Lost
       lifecycle.segment(2, 1, 5) AS "215";       -- nothing matches
SELECT lifecycle.segment(4, 4, 4, 'classic') AS "444",   -- Champions
       lifecycle.segment(5, 1, 1, 'classic') AS "511",   -- Potential Loyalist before New Customers
       lifecycle.segment(1, 5, 5, 'classic') AS "155",   -- At Risk before Can't Lose Them
       lifecycle.segment(1, 1, 3, 'classic') AS "113";   -- nothing matches
-- A NULL score (a customer not scored) has no segment.
SELECT lifecycle.segment(NULL, 3, 3) IS NULL AS no_segment;

-- segment_map: all 125 combinations, the same answer as lifecycle.segment,
-- to join instead of calling a function per customer.
SELECT count(*) AS combinations,
       count(*) FILTER (WHERE m.segment = lifecycle.segment(m.r, m.f, m.m)) AS same_as_segment
  FROM lifecycle.segment_map() m;
SELECT count(*) AS combinations,
       count(*) FILTER (WHERE m.segment = lifecycle.segment(m.r, m.f, m.m, 'classic')) AS same_as_segment
  FROM lifecycle.segment_map('classic') m;
-- How the 125 combinations fall under the default rules (as an independent
-- first-match count over PRODUCT.md's table gives: Champions is only 555,
-- Potential Loyalist R 3-5 x F 3-5 x M 2-5 = 36 less 555 = 35, ...).
SELECT segment, count(*) AS combinations
  FROM lifecycle.segment_map('default') GROUP BY segment ORDER BY segment;

-- The R package's own test: its sample orders, scored with rfm_r and named
-- with the classic rules, give Champions = 158 customers, 1,234 orders,
-- revenue 120,178; the package's vignette counts every segment
-- (Loyal Customers 278, Potential Loyalist 229, Champions 158, Lost 111,
-- At Risk 86, About To Sleep 50, Others 48, Need Attention 35).
CREATE TABLE rfm_orders (customer_id text, order_date date, revenue numeric);
\copy rfm_orders FROM 'test/fixtures/rfm_data_orders.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE summaries AS
SELECT customer_id, lifecycle.rfm_agg(order_date, revenue) AS s
  FROM rfm_orders GROUP BY customer_id;
CREATE TABLE scored AS
SELECT c.customer_id, c.s,
       lifecycle.r_score(lifecycle.days_since_last_order(c.s, '2006-12-31'), b.breaks) AS r,
       lifecycle.f_score((c.s).orders, b.breaks) AS f,
       lifecycle.m_score((c.s).monetary, b.breaks) AS m
  FROM summaries c,
       (SELECT lifecycle.rfm_breaks(lifecycle.days_since_last_order(s, '2006-12-31'),
                                    (s).orders, (s).monetary, 'rfm_r') AS breaks
          FROM summaries) b;
SELECT map.segment, count(*) AS customers, sum((x.s).orders) AS orders, sum((x.s).monetary) AS revenue
  FROM scored x JOIN lifecycle.segment_map('classic') map USING (r, f, m)
 GROUP BY map.segment ORDER BY customers DESC, map.segment;
-- Every customer's segment is the one the package printed.
CREATE TABLE r_package (recency_days int, transaction_count int, amount numeric,
                        recency_score int, frequency_score int, monetary_score int, segment text);
\copy r_package FROM 'test/fixtures/rfm_package_scores.csv' WITH (FORMAT csv, HEADER)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE p.segment = lifecycle.segment(x.r, x.f, x.m, 'classic')) AS same_segment
  FROM r_package p
  JOIN scored x ON lifecycle.days_since_last_order(x.s, '2006-12-31') = p.recency_days
               AND (x.s).orders = p.transaction_count AND (x.s).monetary = p.amount;

-- Users add their own rule sets with INSERT; pg_dump keeps them (the table
-- is an extension configuration table dumping the rows WHERE NOT shipped).
INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max)
VALUES ('vip', 1, 'VIP', 4, 5, NULL, NULL, 5, 5),
       ('vip', 2, 'Everyone else', NULL, NULL, NULL, NULL, NULL, NULL);
SELECT lifecycle.segment(5, 1, 5, 'vip') AS "515", lifecycle.segment(3, 5, 5, 'vip') AS "355";
SELECT segment, count(*) FROM lifecycle.segment_map('vip') GROUP BY segment ORDER BY segment;
SELECT c.relname, e.extcondition
  FROM pg_extension x, unnest(x.extconfig, x.extcondition) e(config, extcondition)
  JOIN pg_class c ON c.oid = e.config
 WHERE x.extname = 'lifecycle' AND c.relname = 'segment_rules';
-- A copy of a shipped rule set can be changed freely.
INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max)
SELECT 'mine', position, segment, r_min, r_max, f_min, f_max, m_min, m_max
  FROM lifecycle.segment_rules WHERE rule_set = 'default';
UPDATE lifecycle.segment_rules SET segment = 'Best' WHERE rule_set = 'mine' AND position = 1;
SELECT lifecycle.segment(5, 5, 5, 'mine');

-- Rules by value: lifecycle.rules reads a rule set once, in position order;
-- segment() over that value reads no table, so it names the same segments
-- wherever it runs (on Citus the value travels to the workers).
SELECT lifecycle.rules('vip');
SELECT count(*) AS combinations,
       count(*) FILTER (WHERE m.segment = lifecycle.segment(m.r, m.f, m.m, lifecycle.rules('mine'))) AS same_as_by_name
  FROM lifecycle.segment_map('mine') m;
SELECT lifecycle.segment(5, 1, 5, ARRAY[ROW('VIP', 4, 5, NULL, NULL, 5, 5)]::lifecycle.segment_rule[]) AS "515",
       lifecycle.segment(3, 1, 5, ARRAY[ROW('VIP', 4, 5, NULL, NULL, 5, 5)]::lifecycle.segment_rule[]) AS "315",
       lifecycle.segment(NULL, 1, 5, lifecycle.rules()) IS NULL AS no_segment;
-- In a Citus shard query (Citus names its connections "citus_internal
-- gpid=..."), a rule set of the caller's own is refused by name: a copy on a
-- worker could differ.  The shipped ones are the same on every node.
SET application_name = 'citus_internal gpid=1';
SELECT lifecycle.segment(5, 5, 5, 'classic');
SELECT lifecycle.segment(5, 5, 5, 'mine');
SELECT * FROM lifecycle.rules('mine');
RESET application_name;

-- Errors.
SELECT lifecycle.segment(5, 5, 5, 'nope');
SELECT * FROM lifecycle.segment_map('nope');
SELECT lifecycle.segment(5, 5, 5, NULL);
SELECT lifecycle.segment(6, 5, 5);
SELECT lifecycle.segment(0, 5, 5);
SELECT lifecycle.segment(0, 5, 5, lifecycle.rules());
SELECT lifecycle.segment(5, 5, 5, NULL::lifecycle.segment_rule[]);
SELECT lifecycle.segment(5, 5, 5, '{}'::lifecycle.segment_rule[]);
SELECT lifecycle.rules('nope');
UPDATE lifecycle.segment_rules SET r_min = 4 WHERE rule_set = 'default' AND position = 1;
DELETE FROM lifecycle.segment_rules WHERE rule_set = 'classic';
INSERT INTO lifecycle.segment_rules (rule_set, position, segment, shipped) VALUES ('x', 1, 'X', true);
INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max) VALUES ('x', 1, 'X', 4, 2);
INSERT INTO lifecycle.segment_rules (rule_set, position, segment, f_min) VALUES ('x', 1, 'X', 6);
INSERT INTO lifecycle.segment_rules (rule_set, position, segment) VALUES ('vip', 1, 'Again');

-- Leave no user rule set behind.
DELETE FROM lifecycle.segment_rules WHERE NOT shipped;

RESET search_path;
DROP SCHEMA segments_test CASCADE;
