-- Many roles, one database (PRODUCT.md section 8): ordinary roles with only
-- SELECT on their orders and CREATE on a schema make, change, refresh and
-- drop their own segment views and rule sets, with no grant on anything of
-- lifecycle's; one role can neither read nor change another's.
SET client_min_messages = warning;
CREATE ROLE lifecycle_alice;
CREATE ROLE lifecycle_bob;
CREATE SCHEMA shop;
CREATE TABLE shop.orders (customer_id bigint, ordered_at timestamptz, amount numeric(10,2));
INSERT INTO shop.orders
SELECT i % 200, timestamptz '2024-01-01 10:00+00' + (i * 7 % 600) * interval '1 day', (i % 90) - 3
  FROM generate_series(1, 3000) i;
GRANT USAGE ON SCHEMA shop TO lifecycle_alice, lifecycle_bob;
GRANT SELECT ON shop.orders TO lifecycle_alice, lifecycle_bob;
CREATE SCHEMA alice AUTHORIZATION lifecycle_alice;
CREATE SCHEMA bob AUTHORIZATION lifecycle_bob;

-- Alice: the functions and a rule set of her own.
SET ROLE lifecycle_alice;
SELECT lifecycle.segment(5, 5, 5), count(*) AS combinations FROM lifecycle.segment_map();
INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max)
VALUES ('mine', 1, 'Alice''s best', 4, 5, 4, 5, 4, 5), ('mine', 2, 'Alice''s rest', 1, 5, 1, 5, 1, 5);
SELECT lifecycle.segment(5, 5, 5, 'mine');

-- Her view: unqualified, it goes to the first schema of her search_path.
SET search_path = alice, public;
SELECT lifecycle.create_segment_view('segs', 'shop.orders', 'customer_id', 'ordered_at', 'amount',
                                     as_of => '2025-06-01', rule_set => 'mine');
RESET search_path;
SELECT view_name, owner, rule_set FROM lifecycle.segment_views;
UPDATE lifecycle.segment_views SET as_of = '2025-07-01' WHERE view_name = 'alice.segs';
CALL lifecycle.refresh_segment_view('alice.segs');
SELECT row_number() OVER (ORDER BY run_id) AS run, outcome, as_of, customers FROM lifecycle.refresh_runs ORDER BY run_id;
SELECT segment, count(*) FROM alice.segs GROUP BY segment ORDER BY segment;
SELECT sum(customers) AS moved FROM alice.segs_transitions;
-- A setting out of bounds is refused where it is written.
\set VERBOSITY terse
UPDATE lifecycle.segment_views SET clv_periods = 100000 WHERE view_name = 'alice.segs';
UPDATE lifecycle.segment_views SET time_zone = 'Mars/Base' WHERE view_name = 'alice.segs';
UPDATE lifecycle.segment_views SET orders = 'shop.orders' WHERE view_name = 'alice.segs';
UPDATE lifecycle.segment_views SET owner = 'lifecycle_bob' WHERE view_name = 'alice.segs';
\set VERBOSITY default

-- Bob: his own rule set may have the same name; he sees none of Alice's.
SET ROLE lifecycle_bob;
INSERT INTO lifecycle.segment_rules (rule_set, position, segment) VALUES ('mine', 1, 'Bob''s');
SELECT lifecycle.segment(5, 5, 5, 'mine');
SELECT rule_set, segment FROM lifecycle.segment_rules WHERE NOT shipped;
SELECT (SELECT count(*) FROM lifecycle.segment_views) AS settings,
       (SELECT count(*) FROM lifecycle.refresh_runs) AS runs,
       (SELECT count(*) FROM lifecycle.stage_history) AS stage_history,
       (SELECT count(*) FROM lifecycle.segment_history) AS segment_history,
       (SELECT count(*) FROM lifecycle.transition_history) AS transitions,
       (SELECT count(*) FROM lifecycle.model_history) AS models,
       (SELECT count(*) FROM lifecycle.model_fits) AS model_fits;
-- Bob attacks Alice's view: every table of lifecycle's, her view, her rule set.
\set VERBOSITY terse
UPDATE lifecycle.segment_views SET as_of = '1999-01-01';
DELETE FROM lifecycle.segment_views;
INSERT INTO lifecycle.segment_views (view_name, orders, customer_column, time_column, amount_column, owner)
VALUES ('alice.evil', 'shop.orders', 'customer_id', 'ordered_at', 'amount', 'lifecycle_alice');
UPDATE lifecycle.refresh_runs SET outcome = 'failed';
DELETE FROM lifecycle.refresh_runs;
INSERT INTO lifecycle.refresh_runs (view_name) VALUES ('alice.segs');
DELETE FROM lifecycle.stage_history;
DELETE FROM lifecycle.segment_history;
DELETE FROM lifecycle.transition_history;
INSERT INTO lifecycle.stage_history VALUES (2, 'active', 1, 1);
UPDATE lifecycle.segment_rules SET segment = 'pwned' WHERE rule_set = 'mine' AND segment LIKE 'Alice%';
DELETE FROM lifecycle.segment_rules WHERE segment LIKE 'Alice%';
TRUNCATE lifecycle.segment_views;
TRUNCATE lifecycle.refresh_runs;
TRUNCATE lifecycle.stage_history;
TRUNCATE lifecycle.segment_history;
TRUNCATE lifecycle.transition_history;
TRUNCATE lifecycle.model_history;
TRUNCATE lifecycle.segment_rules;
CALL lifecycle.refresh_segment_view('alice.segs');
SELECT lifecycle.drop_segment_view('alice.segs');
REFRESH MATERIALIZED VIEW alice.segs_data;
DROP VIEW alice.segs CASCADE;
SELECT count(*) FROM alice.segs;
\set VERBOSITY default

-- Alice's view is untouched.
SET ROLE lifecycle_alice;
SELECT view_name, as_of, rule_set FROM lifecycle.segment_views;
SELECT row_number() OVER (ORDER BY run_id) AS run, outcome FROM lifecycle.refresh_runs ORDER BY run_id;
SELECT rule_set, segment FROM lifecycle.segment_rules WHERE NOT shipped ORDER BY position;

-- Alice lets Bob read her view: he then reads its successful runs and their
-- counts, but not the message of a failed run, which may quote data.
GRANT USAGE ON SCHEMA alice TO lifecycle_bob;
GRANT SELECT ON alice.segs TO lifecycle_bob;
RESET ROLE;
REVOKE SELECT ON shop.orders FROM lifecycle_alice;
SET ROLE lifecycle_alice;
\set VERBOSITY terse
CALL lifecycle.refresh_segment_view('alice.segs');
\set VERBOSITY default
SELECT row_number() OVER (ORDER BY run_id) AS run, outcome, message FROM lifecycle.refresh_runs ORDER BY run_id;
SET ROLE lifecycle_bob;
SELECT count(*) AS rows_bob_reads FROM alice.segs;
SELECT row_number() OVER (ORDER BY run_id) AS run, outcome, message FROM lifecycle.refresh_runs ORDER BY run_id;
SELECT count(*) > 0 AS reads_stage_history FROM lifecycle.stage_history;
SELECT count(*) AS settings FROM lifecycle.segment_views;
-- Reading is all: refresh, drop and the history stay the owner's.
\set VERBOSITY terse
CALL lifecycle.refresh_segment_view('alice.segs');
SELECT lifecycle.drop_segment_view('alice.segs');
DROP VIEW alice.segs CASCADE;
\set VERBOSITY default
DELETE FROM lifecycle.refresh_runs;
DELETE FROM lifecycle.stage_history;
UPDATE lifecycle.segment_history SET customers = 0;
DELETE FROM lifecycle.transition_history;
SET ROLE lifecycle_alice;
SELECT (SELECT count(*) FROM lifecycle.refresh_runs) AS runs,
       (SELECT count(*) FROM lifecycle.stage_history) > 0 AS stage_history,
       (SELECT min(customers) FROM lifecycle.segment_history) > 0 AS segment_history,
       (SELECT count(*) FROM lifecycle.transition_history) > 0 AS transitions;
RESET ROLE;
GRANT SELECT ON shop.orders TO lifecycle_alice;

-- Alice drops her view: nothing of it is left, and she can make it again at once.
SET ROLE lifecycle_alice;
SELECT lifecycle.drop_segment_view('alice.segs');
SELECT (SELECT count(*) FROM lifecycle.segment_views) AS settings,
       (SELECT count(*) FROM lifecycle.refresh_runs) AS runs,
       (SELECT count(*) FROM pg_class WHERE relname LIKE 'segs%' AND relnamespace = 'alice'::regnamespace) AS relations;
SELECT lifecycle.create_segment_view('alice.segs', 'shop.orders', 'customer_id', 'ordered_at', 'amount',
                                     as_of => '2025-06-01');
-- A plain DROP VIEW ... CASCADE, too (it takes the view's rows, alice.segs_data, with it).
DROP VIEW alice.segs CASCADE;
SELECT (SELECT count(*) FROM lifecycle.segment_views) AS settings,
       (SELECT count(*) FROM pg_class WHERE relname LIKE 'segs%' AND relnamespace = 'alice'::regnamespace) AS relations;
SELECT lifecycle.create_segment_view('alice.segs', 'shop.orders', 'customer_id', 'ordered_at', 'amount',
                                     as_of => '2025-06-01');
RESET ROLE;

-- The orders dropped with CASCADE, or the schema: the view, its companions
-- and its settings go.
CREATE TABLE shop.orders2 AS SELECT * FROM shop.orders;
GRANT SELECT ON shop.orders2 TO lifecycle_bob;
SET ROLE lifecycle_bob;
SELECT lifecycle.create_segment_view('bob.segs', 'shop.orders2', 'customer_id', 'ordered_at', 'amount',
                                     as_of => '2025-06-01');
RESET ROLE;
\set VERBOSITY terse
DROP TABLE shop.orders2;
\set VERBOSITY default
DROP TABLE shop.orders2 CASCADE;
DROP SCHEMA alice CASCADE;
SELECT count(*) AS settings_left FROM lifecycle.segment_views;
SELECT count(*) AS runs_left FROM lifecycle.refresh_runs;
SELECT count(*) AS relations_left FROM pg_class WHERE relname LIKE 'segs%';

DROP SCHEMA bob CASCADE;
DROP SCHEMA shop CASCADE;
DELETE FROM lifecycle.segment_rules WHERE NOT shipped;
DROP ROLE lifecycle_alice;
DROP ROLE lifecycle_bob;
