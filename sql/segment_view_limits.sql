-- One calendar, bounded settings and clear errors (PRODUCT.md section 8).
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE SCHEMA limits;
SET search_path = limits, public;

-- One calendar: a zone name is the IANA zone everywhere, in local_day,
-- rfm_agg, retention_metrics and day_start alike.  2024-06-01 22:30Z is
-- June 2 in Paris and Athens (summer time), June 1 in Lisbon and UTC.
-- (calendar_legacy_zones.sql: CET, EET, MET and WET.)
CREATE TABLE zoned (customer int, at timestamptz, amount numeric);
INSERT INTO zoned VALUES (1, '2024-06-01 22:30Z', 10), (1, '2024-01-10 12:00Z', 5);
SELECT z AS zone,
       lifecycle.local_day('2024-06-01 22:30Z', z) AS local_day,
       (SELECT (lifecycle.rfm_agg(at, amount, z)).last_purchase FROM zoned) AS rfm_agg_day,
       (SELECT orders FROM lifecycle.retention_metrics('zoned', 'customer', 'at', 'amount', '2024-06-02', '2024-06-03', z)) AS orders_on_june_2,
       lifecycle.day_start('2024-06-02', z) AS june_2_starts
  FROM unnest(ARRAY['Europe/Paris', 'Europe/Athens', 'Europe/Lisbon', 'UTC']) z;
-- The segment view's cut-off and as-of day use the same calendar: as of
-- June 1 in Paris, the order of 22:30Z (June 2 there) is not counted.
SELECT lifecycle.create_segment_view('zoned_cet', 'zoned', 'customer', 'at', 'amount',
                                     time_zone => 'Europe/Paris', as_of => '2024-06-01');
SELECT customer, last_purchase, orders FROM zoned_cet;
UPDATE lifecycle.segment_views SET as_of = '2024-06-02' WHERE view_name = 'limits.zoned_cet';
CALL lifecycle.refresh_segment_view('zoned_cet');
SELECT customer, last_purchase, orders FROM zoned_cet;
SELECT month, orders FROM zoned_cet_retention_monthly ORDER BY month;
-- Filters bound as BI tools bind them, typed varchar or text (JDBC's
-- setString, node-postgres): stage and segment are varchar.
PREPARE by_varchar(varchar, varchar) AS SELECT count(*) FROM zoned_cet WHERE stage = $1 AND segment <> $2;
EXECUTE by_varchar('active', 'Lost');
PREPARE by_text(text, text) AS SELECT count(*) FROM zoned_cet WHERE stage IN ($1, $2);
EXECUTE by_text('active', 'new');
-- The companions BI tools read: moves only, plain types, every column commented.
SELECT * FROM zoned_cet_transitions;
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE c.relnamespace = 'limits'::regnamespace AND c.relname LIKE 'zoned_cet%' AND c.relkind IN ('v', 'm')
   AND (col_description(c.oid, a.attnum) IS NULL
        OR a.atttypid NOT IN ('bigint'::regtype, 'integer'::regtype, 'numeric'::regtype, 'date'::regtype,
                              'character varying'::regtype, 'double precision'::regtype))
 ORDER BY 1, 2;
-- (and the rows' table, which BI tools do not read: every column commented too)
SELECT count(*) AS commented_columns FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE c.relnamespace = 'limits'::regnamespace AND c.relname LIKE 'zoned_cet%' AND c.relkind IN ('v', 'm', 'r')
   AND col_description(c.oid, a.attnum) IS NOT NULL;
-- A timestamptz domain is a timestamptz.
CREATE DOMAIN order_time AS timestamptz CHECK (VALUE > '2000-01-01');
CREATE TABLE domained (customer int, at order_time, amount numeric);
INSERT INTO domained SELECT customer, at, amount FROM zoned;
SELECT lifecycle.create_segment_view('domained_v', 'domained', 'customer', 'at', 'amount', as_of => '2024-12-31');
SELECT customer, orders, purchase_days FROM domained_v;
\set VERBOSITY terse
SELECT lifecycle.local_day(now(), 'PST');
SELECT lifecycle.create_segment_view('bad_zone', 'zoned', 'customer', 'at', 'amount', time_zone => 'PST');
\set VERBOSITY default

-- One absurd amount scores like the largest and never blocks a refresh:
-- 1e400 is a valid numeric, beyond double precision's range.
CREATE TABLE absurd (customer int, day date, amount numeric);
INSERT INTO absurd SELECT i, date '2024-01-01' + i, i FROM generate_series(1, 10) i;
INSERT INTO absurd VALUES (11, '2024-01-20', 1e400);
SELECT lifecycle.create_segment_view('absurd_v', 'absurd', 'customer', 'day', 'amount', as_of => '2024-03-01');
CALL lifecycle.refresh_segment_view('absurd_v');
SELECT customer, m_score, monetary = 1e400 AS exact_monetary FROM absurd_v WHERE customer IN (1, 10, 11) ORDER BY customer;
SELECT outcome FROM lifecycle.refresh_runs WHERE view_name = 'limits.absurd_v' ORDER BY run_id;

-- Predictions stay finite and cheap.
SELECT lifecycle.expected_spend(lifecycle.gammagamma_model(6.25, 3.74, 15.44), 1e9, 1e300) < 'Infinity' AS finite;
\set VERBOSITY terse
SELECT lifecycle.clv(lifecycle.bgnbd_model(0.243, 4.414, 0.793, 2.426), lifecycle.gammagamma_model(6.25, 3.74, 15.44),
                     2, 30, 38, 20, 100000, 4.3, 0.01);
SELECT lifecycle.create_segment_view('long_clv', 'absurd', 'customer', 'day', 'amount', clv_periods => 100000);
SELECT lifecycle.create_segment_view('long_clv', 'absurd', 'customer', 'day', 'amount', clv_periods => 120, clv_period_days => 91);
SELECT lifecycle.create_segment_view('long_clv', 'absurd', 'customer', 'day', 'amount', prediction_days => 36500);
\set VERBOSITY default

-- Names and keys: clear errors before anything is created.
\set VERBOSITY terse
SELECT lifecycle.create_segment_view(repeat('v', 46), 'absurd', 'customer', 'day', 'amount');
CREATE TABLE pointy (customer point, day date, amount numeric);
SELECT lifecycle.create_segment_view('pointy_v', 'pointy', 'customer', 'day', 'amount');
\set VERBOSITY default
SELECT lifecycle.create_segment_view(repeat('v', 45), 'absurd', 'customer', 'day', 'amount', as_of => '2024-03-01') IS NOT NULL AS made;
SELECT count(*) AS settings_of_failed_attempts FROM lifecycle.segment_views
 WHERE view_name IN ('limits.bad_zone', 'limits.long_clv', 'limits.pointy_v');

-- A failed refresh keeps its DETAIL: a setting made invalid behind the
-- validator's back (by the superuser, with the trigger off).
ALTER TABLE lifecycle.segment_views DISABLE TRIGGER segment_views_check;
UPDATE lifecycle.segment_views SET active_days = 500 WHERE view_name = 'limits.absurd_v';
ALTER TABLE lifecycle.segment_views ENABLE TRIGGER segment_views_check;
CALL lifecycle.refresh_segment_view('absurd_v');
SELECT outcome, message FROM lifecycle.refresh_runs WHERE view_name = 'limits.absurd_v' ORDER BY run_id DESC LIMIT 1;

RESET search_path;
DROP SCHEMA limits CASCADE;
SELECT count(*) AS settings_left FROM lifecycle.segment_views;
