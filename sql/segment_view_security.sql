-- Hostile objects on the caller's search_path change nothing: the builder and
-- the refresh pin their search_path, and every name they write is qualified.
SET client_min_messages = warning;
CREATE SCHEMA shop;
CREATE TABLE shop.orders (customer_id bigint, ordered_at timestamptz, amount numeric);
INSERT INTO shop.orders
SELECT i % 40, timestamptz '2025-01-01 08:00+00' + (i * 13 % 360) * interval '1 day', (i % 30) - 2
  FROM generate_series(1, 800) i;

-- The reference: built with a clean search_path.
SELECT lifecycle.create_segment_view('shop.clean', 'shop.orders', 'customer_id', 'ordered_at', 'amount',
                                     as_of => '2025-12-31') IS NOT NULL AS built;

-- A hostile schema, searched before pg_catalog: operators that are always
-- true, functions shadowing built-ins, and temporary tables named like ours.
CREATE SCHEMA evil;
CREATE FUNCTION evil.yes(bigint, bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.yes);
CREATE OPERATOR evil.< (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.yes);
CREATE FUNCTION evil.ts_yes(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.ts_yes);
CREATE FUNCTION evil.coalesce_(anyelement, anyelement) RETURNS anyelement LANGUAGE sql AS 'SELECT $2';
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$SELECT timestamptz '1999-01-01'$$;
CREATE FUNCTION evil.count(anyelement) RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint';
CREATE FUNCTION evil.format(text, VARIADIC "any") RETURNS text LANGUAGE sql AS $$SELECT 'SELECT 1'$$;
CREATE TEMP TABLE segment_views (view_name text);
CREATE TEMP TABLE refresh_runs (run_id bigint);
SET search_path = evil, pg_catalog, public;

SELECT lifecycle.create_segment_view('shop.hostile', 'shop.orders', 'customer_id', 'ordered_at', 'amount',
                                     as_of => '2025-12-31') IS NOT NULL AS built;
CALL lifecycle.refresh_segment_view('shop.hostile');
RESET search_path;

-- The same rows as the clean build, and a clean history.
SELECT count(*) AS customers,
       (SELECT count(*) FROM (SELECT * FROM shop.clean EXCEPT SELECT * FROM shop.hostile) d) AS differing
  FROM shop.hostile;
SELECT view_name, outcome, customers FROM lifecycle.refresh_runs ORDER BY run_id;

SELECT lifecycle.drop_segment_view('shop.clean'), lifecycle.drop_segment_view('shop.hostile');
DROP SCHEMA evil CASCADE;
DROP SCHEMA shop CASCADE;
