-- Upgrade chain: every released version of lifecycle updates to the current
-- one with ALTER EXTENSION ... UPDATE, one step at a time.  Add a CREATE
-- EXTENSION ... VERSION line here for each new release.
-- test/scripts/upgrade.sh checks that the result equals a fresh install.
SET client_min_messages = warning;
DROP EXTENSION lifecycle;
SELECT name, version FROM pg_available_extension_versions WHERE name = 'lifecycle' ORDER BY version;
CREATE EXTENSION lifecycle VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'lifecycle';
-- This library under 1.0's SQL, before the update (a package upgraded,
-- ALTER EXTENSION not yet run): rfm_agg, whose state 1.0 declares
-- internal, works, serially and in a parallel plan, and gives what it
-- gives after the update.
CREATE TABLE old_sql_orders AS
SELECT c % 7 AS customer, date '2025-01-01' + c % 40 AS day, (c % 13) * 1.25 - 2 AS amount
  FROM generate_series(1, 20000) c;
SELECT customer, lifecycle.rfm_agg(day, amount) FROM old_sql_orders GROUP BY 1 ORDER BY 1;
SELECT count(*) AS differing_from_sum_and_count
  FROM (SELECT customer, lifecycle.rfm_agg(day, amount) AS s FROM old_sql_orders GROUP BY 1) a
  JOIN (SELECT customer, sum(amount) AS monetary, count(*) FILTER (WHERE amount >= 0) AS orders,
               -sum(amount) FILTER (WHERE amount < 0) AS refunded
          FROM old_sql_orders GROUP BY 1) b USING (customer)
 WHERE (a.s).monetary <> b.monetary OR (a.s).orders <> b.orders OR (a.s).refunded <> b.refunded;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT customer, lifecycle.rfm_agg(day, amount) FROM old_sql_orders GROUP BY 1;
SELECT customer, lifecycle.rfm_agg(day, amount) FROM old_sql_orders GROUP BY 1 ORDER BY 1;
ALTER EXTENSION lifecycle UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'lifecycle';
SELECT customer, lifecycle.rfm_agg(day, amount) FROM old_sql_orders GROUP BY 1 ORDER BY 1;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
DROP TABLE old_sql_orders;
-- The shipped rule sets are there once.
SELECT rule_set, count(*) FROM lifecycle.segment_rules GROUP BY rule_set ORDER BY rule_set;
