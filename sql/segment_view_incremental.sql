-- The daily refresh reads only the orders of customers whose orders
-- changed (logged by triggers on the orders) and writes only the rows that
-- changed.  Every case below is checked against a twin view over the same
-- orders that reads every order at each refresh (incremental => false):
-- both must hold the same rows, column for column, and a full read of the
-- incremental view must then find nothing to write.
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE SCHEMA inc;
SET search_path = inc, public;

CREATE TABLE orders (customer bigint, at timestamptz, amount numeric, status text);
INSERT INTO orders
SELECT 1 + i % 40, timestamptz '2025-01-01' + (i * 53 % 360) * interval '1 day' + (i % 24) * interval '1 hour',
       CASE WHEN i % 17 = 0 THEN -5 ELSE 10 + i % 30 END, 'paid'
  FROM generate_series(1, 600) i;
INSERT INTO orders VALUES (NULL, '2025-06-01', 12, 'paid');

SELECT lifecycle.create_segment_view('v', 'orders', 'customer', 'at', 'amount', as_of => '2025-12-31');
SELECT lifecycle.create_segment_view('twin', 'orders', 'customer', 'at', 'amount', as_of => '2025-12-31',
                                     incremental => false);
SELECT view_name, incremental FROM lifecycle.segment_views ORDER BY 1;

-- Refresh both; then the differences between them (none expected), how the
-- incremental one read (full_read, order rows read, rows written) and
-- what a full read of it would still write (0 expected).
CREATE FUNCTION differences() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM ((TABLE v EXCEPT TABLE twin) UNION ALL (TABLE twin EXCEPT TABLE v)) d
$$;
CREATE FUNCTION last_run(view text) RETURNS TABLE (full_read boolean, rows_read bigint, rows_written bigint,
                                                   customers bigint, guest_orders bigint)
LANGUAGE sql AS $$
  SELECT full_read, rows_read, rows_written, customers, guest_orders FROM lifecycle.refresh_runs
   WHERE view_name = 'inc.' || view ORDER BY run_id DESC LIMIT 1
$$;
-- the last run's stage and segment history against the view's rows
CREATE FUNCTION history_differences() RETURNS bigint LANGUAGE sql AS $$
  WITH run AS (SELECT max(run_id) AS id FROM lifecycle.refresh_runs WHERE view_name = 'inc.v'),
  recorded AS (SELECT h.stage::text AS stage, NULL AS segment, h.customers, h.revenue
                 FROM lifecycle.stage_history h, run WHERE h.run_id = run.id
               UNION ALL
               SELECT NULL, h.segment, h.customers, h.revenue FROM lifecycle.segment_history h, run
                WHERE h.run_id = run.id),
  counted AS (SELECT stage::text, NULL AS segment, count(*), sum(monetary) FROM inc.v GROUP BY stage
              UNION ALL
              SELECT NULL, segment, count(*), sum(monetary) FROM inc.v WHERE segment IS NOT NULL GROUP BY segment)
  SELECT count(*) FROM ((TABLE recorded EXCEPT ALL TABLE counted) UNION ALL (TABLE counted EXCEPT ALL TABLE recorded)) d
$$;
CREATE PROCEDURE check_refresh(label text) LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  COMMIT;
  CALL lifecycle.refresh_segment_view('inc.v');
  CALL lifecycle.refresh_segment_view('inc.twin');
  SELECT * INTO r FROM inc.last_run('v');
  RAISE NOTICE '%: differences %, history differences %, full_read %, rows_read %, rows_written %, customers %, guests %',
    label, inc.differences(), inc.history_differences(), r.full_read, r.rows_read, r.rows_written, r.customers,
    r.guest_orders;
  CALL lifecycle.refresh_segment_view('inc.v', full_read => true);
  RAISE NOTICE '%: a full read writes % rows', label, (SELECT rows_written FROM inc.last_run('v'));
END $$;
SET client_min_messages = notice;

-- nothing changed: nothing read, nothing written
CALL check_refresh('unchanged');
-- new orders of two customers, one of them new
INSERT INTO orders VALUES (3, '2025-12-30 10:00Z', 25, 'paid'), (41, '2025-12-31 23:00Z', 8, 'paid');
CALL check_refresh('new orders');
-- orders written by another role, which may write the orders and nothing of
-- lifecycle's: its statements are logged, and it cannot read the log
CREATE ROLE regress_inc_app;
GRANT USAGE ON SCHEMA inc TO regress_inc_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO regress_inc_app;
SET ROLE regress_inc_app;
INSERT INTO orders VALUES (4, '2025-12-29 09:00Z', 31, 'paid');
UPDATE orders SET amount = amount + 1 WHERE customer = 6 AND amount > 0;
DELETE FROM orders WHERE customer = 15 AND at < '2025-03-01';
SELECT count(*) AS log_rows_it_sees FROM lifecycle.order_changes;
-- nor the log of inserted rows, which its inserts write (as the orders' owner)
SELECT * FROM v_log;
INSERT INTO v_log VALUES (4, '2025-12-30 09:00Z', 1000);
RESET ROLE;
SELECT customer, at, amount FROM v_log;
CALL check_refresh('orders written by another role');
-- an order inserted late, with an old time: customer 5's second day in March
INSERT INTO orders VALUES (5, '2025-03-02 08:00Z', 14, 'paid');
CALL check_refresh('late insert with an old time');
-- an update of another column logs nothing
UPDATE orders SET status = 'shipped' WHERE customer = 7;
SELECT count(*) AS logged_after_status_update FROM lifecycle.order_changes;
CALL check_refresh('status update');
-- updates of amount, time and customer
UPDATE orders SET amount = amount * 2 WHERE customer = 8 AND amount > 0;
UPDATE orders SET at = at - interval '200 days' WHERE customer = 9;
UPDATE orders SET customer = 11 WHERE customer = 10 AND at < '2025-06-01';
SELECT count(DISTINCT customer) AS logged_after_updates FROM lifecycle.order_changes WHERE view_name = 'inc.v';
CALL check_refresh('updates of amount, time and customer');
-- deletes: some orders of one customer, every order of another (gone)
DELETE FROM orders WHERE customer = 12 AND at > '2025-10-01';
DELETE FROM orders WHERE customer = 13;
CALL check_refresh('deletes');
SELECT count(*) AS customer_13_rows FROM v WHERE customer = 13;
-- the incremental refresh (the one before the last full read) counted customer 13 gone
SELECT from_stage, to_stage, customers FROM lifecycle.transition_history
 WHERE run_id = (SELECT run_id FROM lifecycle.refresh_runs WHERE view_name = 'inc.v' ORDER BY run_id DESC OFFSET 1 LIMIT 1)
   AND (to_stage IS NULL OR from_stage IS NULL);
-- guest orders
INSERT INTO orders VALUES (NULL, '2025-07-01', 3, 'paid'), (NULL, '2025-07-02', 4, 'paid');
CALL check_refresh('guest orders');
-- an insert and an update of the same customer in one transaction: its
-- orders are read, the inserted row not folded in twice
BEGIN;
INSERT INTO orders VALUES (16, '2025-12-28 10:00Z', 40, 'paid');
UPDATE orders SET amount = amount + 3 WHERE customer = 16 AND at < '2025-06-01';
COMMIT;
CALL check_refresh('an insert and an update of one customer');
-- an inserted order deleted again before the refresh
INSERT INTO orders VALUES (17, '2025-12-27 10:00Z', 41, 'paid');
DELETE FROM orders WHERE customer = 17 AND amount = 41;
CALL check_refresh('an insert deleted again');
-- orders inserted for every customer: folded into the kept summaries
INSERT INTO orders SELECT customer, max(at) + interval '1 hour', 9, 'paid' FROM orders
 WHERE customer IS NOT NULL GROUP BY customer;
CALL check_refresh('an insert for every customer');
-- the rows keep each customer's summary state as lifecycle._rfm_state_agg
-- makes it from the orders (what Citus workers compute for a view over a
-- table distributed by the customer key): byte for byte
SELECT count(*) AS customers, count(*) FILTER (WHERE d.summary_state IS DISTINCT FROM a.state) AS states_differing
  FROM v_data d FULL JOIN (SELECT customer, lifecycle._rfm_state_agg(at, amount, 'UTC') AS state FROM orders
                            WHERE customer IS NOT NULL AND at < lifecycle.day_start('2026-01-01', 'UTC')
                            GROUP BY customer) a USING (customer);
-- the orders under another owner, who may not write the log: inserts still
-- succeed, and the next refresh reads every order
CREATE ROLE regress_inc_owner;
ALTER TABLE orders OWNER TO regress_inc_owner;
INSERT INTO orders VALUES (18, '2025-12-26 10:00Z', 42, 'paid');
ALTER TABLE orders OWNER TO CURRENT_USER;
SELECT count(*) AS log_rows, (SELECT count(*) FROM lifecycle.order_changes WHERE full_read) AS full_read_marks FROM v_log;
CALL check_refresh('orders owned by a role that may not write the log');
DROP ROLE regress_inc_owner;
-- an order after the as-of day is not counted, and is read again when the
-- as-of day reaches it
INSERT INTO orders VALUES (14, '2026-01-02 12:00Z', 99, 'paid');
CALL check_refresh('an order after the as-of day');
UPDATE lifecycle.segment_views SET as_of = '2026-01-02' WHERE view_name IN ('inc.v', 'inc.twin');
CALL check_refresh('the as-of day reaches it');
SELECT orders, last_purchase FROM v WHERE customer = 14;
-- the as-of day going back, and another zone: every order is read
UPDATE lifecycle.segment_views SET as_of = '2025-12-31' WHERE view_name IN ('inc.v', 'inc.twin');
CALL check_refresh('as-of day back');
UPDATE lifecycle.segment_views SET time_zone = 'Asia/Tokyo' WHERE view_name IN ('inc.v', 'inc.twin');
CALL check_refresh('another zone');
-- another score method and rule set: every row recomputed from the kept summaries
UPDATE lifecycle.segment_views SET score_method = 'quantile', rule_set = 'classic' WHERE view_name IN ('inc.v', 'inc.twin');
CALL check_refresh('quantile and classic');
-- other stage thresholds: every order is read (a row keeps its stage's start
-- day as the old thresholds gave it)
UPDATE lifecycle.segment_views SET active_days = 60 WHERE view_name IN ('inc.v', 'inc.twin');
CALL check_refresh('stage thresholds changed');
UPDATE lifecycle.segment_views SET active_days = 90 WHERE view_name IN ('inc.v', 'inc.twin');
-- ntile ranks every customer by key: every order is read
UPDATE lifecycle.segment_views SET score_method = 'ntile' WHERE view_name IN ('inc.v', 'inc.twin');
CALL check_refresh('ntile');
UPDATE lifecycle.segment_views SET score_method = 'bands' WHERE view_name IN ('inc.v', 'inc.twin');
-- many customers changed: every order is read
UPDATE orders SET amount = amount + 1 WHERE customer <= 20;
CALL check_refresh('a quarter of the customers changed');
-- rows deleted by hand: the next refresh reads every order and writes them again
DELETE FROM v_data WHERE customer IN (1, 2);
CALL check_refresh('rows deleted by hand');
-- truncated and loaded again
TRUNCATE orders;
INSERT INTO orders VALUES (1, '2025-12-01', 10, 'paid'), (2, '2025-11-01', 20, 'paid');
CALL check_refresh('truncate');
-- a disabled trigger: a warning, and every order is read
ALTER TABLE orders DISABLE TRIGGER USER;
INSERT INTO orders VALUES (2, '2025-12-20', 5, 'paid');
CALL check_refresh('triggers disabled');

-- A table that gains an inheritance child: writes to the child would not
-- fire the triggers, so every order is read (with a warning).
DO $$
DECLARE
  t name;
BEGIN
  FOR t IN SELECT tgname FROM pg_trigger WHERE tgrelid = 'inc.orders'::regclass AND NOT tgisinternal LOOP
    EXECUTE format('ALTER TABLE inc.orders ENABLE ALWAYS TRIGGER %I', t);
  END LOOP;
END $$;
CALL check_refresh('triggers enabled again');
-- The rows table altered by hand: a refresh reads the kept rows by their
-- columns' places, so it refuses a table that has others; with the added
-- column dropped again it refreshes as before.
ALTER TABLE v_data ADD COLUMN note text;
\set VERBOSITY terse
CALL lifecycle.refresh_segment_view('v');
\set VERBOSITY default
ALTER TABLE v_data DROP COLUMN note;
CALL check_refresh('an added column dropped again');
CREATE TABLE orders_more () INHERITS (orders);
INSERT INTO orders_more VALUES (3, '2025-12-21', 7, 'paid');
CALL check_refresh('an inheritance child');
DROP TABLE orders_more;
-- Partitioned orders, and orders the caller does not own: a notice, and
-- every refresh reads every order.
CREATE TABLE parted (customer bigint, at timestamptz, amount numeric) PARTITION BY RANGE (at);
CREATE TABLE parted_2025 PARTITION OF parted FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
SELECT lifecycle.create_segment_view('p', 'parted', 'customer', 'at', 'amount', as_of => '2025-12-31');
SELECT incremental FROM lifecycle.segment_views WHERE view_name = 'inc.p';
SELECT lifecycle.drop_segment_view('p');

-- Dropping the view drops its triggers, its logged changes and its log of inserted rows.
SET client_min_messages = warning;
SELECT count(*) AS triggers_before FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal;
SELECT lifecycle.drop_segment_view('v');
SELECT count(*) AS triggers_after FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal;
SELECT to_regclass('inc.v_log') AS log_table_after;
INSERT INTO orders VALUES (1, '2025-12-02', 1, 'paid');
SELECT count(*) AS logged FROM lifecycle.order_changes;
DROP SCHEMA inc CASCADE;
DROP ROLE regress_inc_app;
