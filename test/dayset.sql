-- The purchase-day set of rfm_agg (src/dayset.c) costs memory in proportion
-- to the days it holds, whatever the dates: placeholder orders at the ends
-- of the calendar (4713-11-24 BC, 0001-01-01, 5874897-12-31) beside real
-- orders give the right purchase days, first, last and previous purchase
-- for date, timestamp and timestamptz times, in every input order and under
-- parallel plans (states serialized, deserialized and combined); such a
-- placeholder costs what an order on a day of its own costs; a damaged
-- serialized state is rejected.
BEGIN;
SELECT plan(38);

-- The day facts of rfm_agg over a query's (day) rows, as one row.
CREATE FUNCTION pg_temp.days_of(query text,
  OUT first_purchase date, OUT last_purchase date, OUT previous_purchase date,
  OUT purchase_days int, OUT orders bigint) LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SELECT (s).first_purchase, (s).last_purchase, (s).previous_purchase, (s).purchase_days, (s).orders
                    FROM (SELECT lifecycle.rfm_agg(t, 1) AS s FROM (%s) q(t)) r', query)
     INTO first_purchase, last_purchase, previous_purchase, purchase_days, orders;
END $$;

-- 1. Placeholders at both ends of the calendar, beside real orders.
SELECT is(pg_temp.days_of($$VALUES (date '4713-11-24 BC'), ('0001-01-01'), ('2025-03-01'), ('2025-03-04'),
                                    ('2025-03-04'), ('5874897-12-31')$$),
          ROW(date '4713-11-24 BC', date '5874897-12-31', date '2025-03-04', 5, 6::bigint),
          'date: the first and last dates there are, beside real orders');
SELECT is(pg_temp.days_of($$VALUES (date '5874897-12-31'), ('2025-03-04'), ('0001-01-01'), ('2025-03-01'),
                                    ('4713-11-24 BC'), ('2025-03-04')$$),
          ROW(date '4713-11-24 BC', date '5874897-12-31', date '2025-03-04', 5, 6::bigint),
          'date: the same in another order');
SELECT is(pg_temp.days_of($$VALUES (date '0001-01-01'), ('2025-06-01')$$),
          ROW(date '0001-01-01', date '2025-06-01', date '0001-01-01', 2, 2::bigint),
          'date: a 0001-01-01 placeholder and one real order');
SELECT is(pg_temp.days_of($$VALUES (date '2025-06-01'), ('2025-05-01'), ('5874897-12-31')$$),
          ROW(date '2025-05-01', date '5874897-12-31', date '2025-06-01', 3, 3::bigint),
          'date: a placeholder after the real orders is the last day, the real last one the previous');
SELECT is(pg_temp.days_of($$VALUES (timestamp '4713-11-24 00:00 BC'), ('0001-01-01 12:00'), ('2025-03-01 10:00'),
                                    ('2025-03-04 23:59:59'), ('2025-03-04 00:00'), ('294276-12-31 23:59:59')$$),
          ROW(date '4713-11-24 BC', date '294276-12-31', date '2025-03-04', 5, 6::bigint),
          'timestamp: the first and last timestamps there are, beside real orders');
SELECT is(pg_temp.days_of($$VALUES (timestamptz '4713-11-24 00:00+00 BC'), ('0001-01-01 12:00+00'),
                                    ('2025-03-01 10:00+00'), ('2025-03-04 23:59:59+00'), ('2025-03-04 00:00+00'),
                                    ('294276-12-31 23:59:59+00')$$),
          ROW(date '4713-11-24 BC', date '294276-12-31', date '2025-03-04', 5, 6::bigint),
          'timestamptz (UTC days): the first and last timestamps there are, beside real orders');
SELECT is((SELECT ROW((s).first_purchase, (s).last_purchase, (s).previous_purchase, (s).purchase_days)
             FROM (SELECT lifecycle.rfm_agg(t, 1, 'America/New_York') AS s
                     FROM (VALUES (timestamptz '4713-11-24 00:00+00 BC'), ('2025-03-04 03:00+00'),
                                  ('294276-12-31 23:59:59+00')) v(t)) q),
          ROW(date '4713-11-23 BC', date '294276-12-31', date '2025-03-03', 3),
          'timestamptz in a zone west of UTC: the first instant falls on the day before the first date');
SELECT is((SELECT ROW((s).first_purchase, (s).last_purchase, (s).previous_purchase, (s).purchase_days)
             FROM (SELECT lifecycle.rfm_agg(t, 1, 'Asia/Tokyo') AS s
                     FROM (VALUES (timestamptz '0001-01-01 00:00+00'), ('2025-03-04 20:00+00'),
                                  ('294276-12-31 23:59:59+00')) v(t)) q),
          ROW(date '0001-01-01', date '294277-01-01', date '2025-03-05', 3),
          'timestamptz in a zone east of UTC: the last instant falls on the day after the last date');

-- 2. Many shapes of day sets, in every input order, against the definition
-- with built-in aggregates: random days over three years, every day, every
-- third day, one day in 64, placeholders at each end beside dense days,
-- days spread over 8,000 years beside dense ones, days in reverse order.
-- (Only two customers have days at both ends of the calendar: a build with a
-- bitmap over the span takes 268 MB for each, and must fail here, not take
-- the machine's memory.)
CREATE TABLE shapes AS
SELECT c, i, CASE c % 7
         WHEN 0 THEN date '2023-01-01' + (hashint4(c * 1000 + i) & 1023)
         WHEN 1 THEN date '2023-01-01' + i
         WHEN 2 THEN date '2023-01-01' + i * 3
         WHEN 3 THEN CASE i WHEN 0 THEN date '0001-01-01'
                            WHEN 1 THEN CASE WHEN c < 15 THEN date '5874897-12-31' ELSE date '9999-12-31' END
                            WHEN 2 THEN CASE WHEN c < 15 THEN date '4713-11-24 BC' ELSE date '1900-01-01' END
                            ELSE date '2024-01-01' + (hashint4(c * 77 + i) & 255) END
         WHEN 4 THEN date '2023-01-01' + (hashint4(c * 1000 + i) & 63) * 64
         WHEN 5 THEN CASE WHEN i % 10 = 0 THEN date '0001-01-01' + (hashint4(c + i) & 1048575) * 3
                          ELSE date '2020-01-01' + (i % 400) * 2 END
         ELSE date '2023-01-01' - i * 5
       END AS day
  FROM generate_series(1, 700) c,
       LATERAL generate_series(0, (hashint4(c) & 511) % CASE WHEN c % 7 IN (1, 2, 6) THEN 500 ELSE 120 END) i;
-- The definition: the previous purchase is the latest day before the last.
CREATE FUNCTION pg_temp.expected_days(rows text) RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT c, min(day), max(day), max(day) FILTER (WHERE day < last), count(DISTINCT day)::int, count(*)
       FROM (SELECT c, day, max(day) OVER (PARTITION BY c) AS last FROM (%s) r) s GROUP BY c ORDER BY c', rows);
END $$;
CREATE TABLE shapes_expected AS
SELECT * FROM pg_temp.expected_days('SELECT c, day FROM shapes') AS t(c int, f date, l date, p date, n int, o bigint);

CREATE FUNCTION pg_temp.shape_days(query text) RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT c, (s).first_purchase, (s).last_purchase, (s).previous_purchase, (s).purchase_days, (s).orders
       FROM (%s) q ORDER BY c', query);
END $$;

SET LOCAL max_parallel_workers_per_gather = 0;
SELECT results_eq(
  $$SELECT * FROM pg_temp.shape_days('SELECT c, lifecycle.rfm_agg(day, 1) AS s FROM (SELECT * FROM shapes ORDER BY c, i) r GROUP BY c')
      AS t(c int, f date, l date, p date, n int, o bigint)$$,
  $$SELECT * FROM shapes_expected ORDER BY c$$,
  'every shape, days in their order: the definition''s days');
SELECT results_eq(
  $$SELECT * FROM pg_temp.shape_days('SELECT c, lifecycle.rfm_agg(day, 1) AS s FROM (SELECT * FROM shapes ORDER BY c, i DESC) r GROUP BY c')
      AS t(c int, f date, l date, p date, n int, o bigint)$$,
  $$SELECT * FROM shapes_expected ORDER BY c$$,
  'every shape, days in reverse order: the same');
SELECT results_eq(
  $$SELECT * FROM pg_temp.shape_days('SELECT c, lifecycle.rfm_agg(day, 1) AS s FROM (SELECT * FROM shapes ORDER BY hashint4(c * 31 + i)) r GROUP BY c')
      AS t(c int, f date, l date, p date, n int, o bigint)$$,
  $$SELECT * FROM shapes_expected ORDER BY c$$,
  'every shape, days shuffled: the same');
SELECT results_eq(
  $$SELECT * FROM pg_temp.shape_days('SELECT c, lifecycle.rfm_agg(day::timestamp + interval ''13 hours'', 1) AS s FROM (SELECT * FROM shapes WHERE day < ''294276-12-31'' ORDER BY hashint4(c * 17 + i)) r GROUP BY c')
      AS t(c int, f date, l date, p date, n int, o bigint)$$,
  $$SELECT * FROM pg_temp.expected_days('SELECT c, day FROM shapes WHERE day < ''294276-12-31''')
      AS t(c int, f date, l date, p date, n int, o bigint)$$,
  'every shape as timestamps, shuffled: the same');
RESET max_parallel_workers_per_gather;

-- 3. Parallel plans: every customer's rows spread over the whole table, so
-- that both workers see part of them and their sets are serialized and
-- merged, each customer with a 0001-01-01 placeholder (and the first
-- timestamptz day west of UTC, which is no date).
CREATE TABLE shapes_many AS
SELECT c, day FROM shapes, generate_series(1, 4) r
UNION ALL SELECT c, date '0001-01-01' FROM generate_series(1, 700) c
ORDER BY 2, 1;
ANALYZE shapes_many;
CREATE TABLE shapes_many_expected AS
SELECT * FROM pg_temp.expected_days('SELECT c, day FROM shapes_many')
  AS t(c int, first_purchase date, last_purchase date, previous_purchase date, purchase_days int, orders bigint);

CREATE FUNCTION pg_temp.plan_has(query text, pattern text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    IF line ~ pattern THEN RETURN true; END IF;
  END LOOP;
  RETURN false;
END $$;

SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;
SELECT ok(pg_temp.plan_has('SELECT c, lifecycle.rfm_agg(day, 1) AS s FROM shapes_many GROUP BY c',
                           'Partial HashAggregate'), 'the plan is parallel');
SELECT results_eq(
  $$SELECT * FROM pg_temp.shape_days('SELECT c, lifecycle.rfm_agg(day, 1) AS s FROM shapes_many GROUP BY c')
      AS t(c int, f date, l date, p date, n int, o bigint)$$,
  $$SELECT * FROM shapes_many_expected ORDER BY c$$,
  'parallel hash: combined sets give the definition''s days');
SET LOCAL enable_hashagg = off;
SELECT results_eq(
  $$SELECT * FROM pg_temp.shape_days('SELECT c, lifecycle.rfm_agg(day, 1) AS s FROM shapes_many GROUP BY c')
      AS t(c int, f date, l date, p date, n int, o bigint)$$,
  $$SELECT * FROM shapes_many_expected ORDER BY c$$,
  'parallel sorted: the same');
RESET enable_hashagg;
SELECT is(
  (SELECT ROW((s).first_purchase, (s).last_purchase, (s).purchase_days)
     FROM (SELECT c, lifecycle.rfm_agg(CASE WHEN c = 1 AND day = '0001-01-01' THEN timestamptz '4713-11-24 00:00+00 BC'
                                            ELSE day::timestamp AT TIME ZONE 'America/New_York' END,
                                       1, 'America/New_York') AS s
             FROM shapes_many GROUP BY c) q WHERE c = 1),
  (SELECT ROW(date '4713-11-23 BC', last_purchase, purchase_days) FROM shapes_many_expected WHERE c = 1),
  'parallel: the day before the first date survives serialization');
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- 4. What a state costs.  A serialized state holds the day set as the state
-- does, so its size is the set's; a placeholder far away costs what a day of
-- its own costs.
CREATE AGGREGATE pg_temp.state_bytes(date, numeric) (
  SFUNC = lifecycle.rfm_agg_trans_date, STYPE = lifecycle.rfm_state, FINALFUNC = lifecycle.rfm_state_send);

SELECT is((SELECT octet_length(pg_temp.state_bytes(d, 1)) FROM (VALUES (date '0001-01-01'), ('2025-06-01')) v(d)),
          (SELECT octet_length(pg_temp.state_bytes(d, 1)) FROM (VALUES (date '2025-05-01'), ('2025-06-01')) v(d)),
          'a 0001-01-01 placeholder and an order cost what two orders a month apart cost');
SELECT is((SELECT octet_length(pg_temp.state_bytes(d, 1))
             FROM (VALUES (date '4713-11-24 BC'), ('2025-06-01'), ('5874897-12-31')) v(d)),
          (SELECT octet_length(pg_temp.state_bytes(d, 1)) FROM (VALUES (date '2025-04-01'), ('2025-05-01'), ('2025-06-01')) v(d)),
          'placeholders at both ends of the calendar cost what two more orders cost');
SELECT cmp_ok((SELECT octet_length(pg_temp.state_bytes(date '2023-01-01' + i, 1)) FROM generate_series(0, 1094) i),
              '<=', 68 + 8 * 18,
              'a customer who buys every day for three years: a bitmap, one bit a day');
SELECT cmp_ok((SELECT octet_length(pg_temp.state_bytes(d, 1))
                 FROM (SELECT date '0001-01-01' UNION ALL SELECT date '2023-01-01' + i FROM generate_series(0, 1094) i
                       UNION ALL SELECT date '5874897-12-31') v(d)),
              '<=', 68 + 8 * 18 + 2 * 4,
              'the same with a placeholder at each end, in time order: the bitmap and 4 bytes a placeholder');
SELECT cmp_ok((SELECT octet_length(pg_temp.state_bytes(d, 1))
                 FROM (SELECT * FROM (SELECT date '0001-01-01' UNION ALL SELECT date '2023-01-01' + i FROM generate_series(0, 1094) i
                       UNION ALL SELECT date '5874897-12-31') v(d) ORDER BY hashint4(d - date '2000-01-01')) o),
              '<=', 2 * (8 * 18 + 2 * 4) + 32 + 68,
              'the same shuffled: at most twice the cheapest layout and 32 bytes');
SELECT cmp_ok((SELECT octet_length(pg_temp.state_bytes(date '2023-01-01' + i * 64, 1)) FROM generate_series(0, 99) i),
              '<=', 68 + 100 * 4 + 32,
              'one day in 64 for 17 years: 4 bytes a day, not a bitmap of the span');

-- 20,000 customers, each with a 0001-01-01 placeholder and a real order,
-- take the memory of 20,000 customers with two real orders: the hash
-- aggregate neither spills nor needs more (a bitmap over the span took
-- 92 kB a customer, 1.8 GB in all).
CREATE FUNCTION pg_temp.hashagg(query text, OUT batches int, OUT peak_kb bigint) LANGUAGE plpgsql AS $$
DECLARE plan jsonb;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON, COSTS OFF, TIMING OFF) ' || query INTO plan;
  SELECT (n->>'HashAgg Batches')::int, (n->>'Peak Memory Usage')::bigint INTO batches, peak_kb
    FROM jsonb_path_query(plan, 'strict $.** ? (@."Strategy" == "Hashed")') n LIMIT 1;
END $$;
CREATE TABLE placeholder_orders AS
SELECT c, d FROM generate_series(1, 20000) c, (VALUES (date '0001-01-01'), (date '2025-06-01')) v(d);
CREATE TABLE real_orders AS
SELECT c, d FROM generate_series(1, 20000) c, (VALUES (date '2025-05-01'), (date '2025-06-01')) v(d);
ANALYZE placeholder_orders;
ANALYZE real_orders;
SET LOCAL work_mem = '256MB';
SET LOCAL max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE hashagg_memory AS
SELECT (pg_temp.hashagg('SELECT c, lifecycle.rfm_agg(d, 1) FROM placeholder_orders GROUP BY c')).*, 'date' AS kind
UNION ALL SELECT (pg_temp.hashagg('SELECT c, lifecycle.rfm_agg(d::timestamp, 1) FROM placeholder_orders GROUP BY c')).*, 'timestamp'
UNION ALL SELECT (pg_temp.hashagg('SELECT c, lifecycle.rfm_agg(d::timestamptz, 1, ''Europe/Paris'') FROM placeholder_orders GROUP BY c')).*, 'timestamptz'
UNION ALL SELECT (pg_temp.hashagg('SELECT c, lifecycle.rfm_agg(d, 1) FROM real_orders GROUP BY c')).*, 'real';
SELECT is((SELECT array_agg(batches ORDER BY kind) FROM hashagg_memory), '{1,1,1,1}',
          '20,000 customers with a placeholder: the hash aggregate does not spill at work_mem 256MB');
SELECT cmp_ok((SELECT max(peak_kb) FROM hashagg_memory WHERE kind <> 'real'),
              '<=', (SELECT peak_kb FROM hashagg_memory WHERE kind = 'real'),
              '20,000 customers with a placeholder take no more memory than with two real orders (date, timestamp, timestamptz)');
RESET max_parallel_workers_per_gather;
RESET work_mem;

-- 5. A damaged serialized state is rejected (22P03), never read out of
-- bounds.  The serialized state is the binary form of lifecycle.rfm_state,
-- and in hex behind \x its text form: its input function reads it as the
-- combine function gets a partial state from a Citus worker.
CREATE FUNCTION pg_temp.deserialize_damaged(state bytea) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ('\x' || encode(state, 'hex'))::lifecycle.rfm_state;
END $$;

-- Three sparse days: version 1, orders 8, refunds 8, three money totals
-- 13 each (to byte 56), then the set at byte 57: base 4, words 4, sparse
-- days 4, the days 4 each.
CREATE TEMP TABLE good AS
SELECT pg_temp.state_bytes(d, 1) AS sparse3 FROM (VALUES (date '0001-01-01'), ('2025-03-01'), ('2025-06-01')) v(d);
-- A bitmap of one word (2025-01-01 .. 2025-01-20, base 9088) and a sparse placeholder.
ALTER TABLE good ADD COLUMN dense bytea;
UPDATE good SET dense = (SELECT pg_temp.state_bytes(d, 1)
                           FROM (SELECT date '0001-01-01' UNION ALL SELECT date '2025-01-01' + i FROM generate_series(0, 19) i) v(d));
SELECT is((SELECT ROW(octet_length(sparse3), substr(sparse3, 57, 12), octet_length(dense), substr(dense, 57, 12)) FROM good),
          ROW(80, int4send(0) || int4send(0) || int4send(3), 80, int4send(9088) || int4send(1) || int4send(1)),
          'the test states have the layout the damage below assumes');

SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)', (SELECT overlay(sparse3 placing '\x01' from 1) FROM good)),
                 '22P03', 'invalid serialized rfm_agg state', 'a state of format 1 (bitmap only) is rejected');
SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)', (SELECT substr(sparse3, 1, 76) FROM good)),
                 '22P03', 'invalid purchase-day set in serialized rfm_agg state', 'a truncated day set is rejected');
SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)', (SELECT sparse3 || '\x00'::bytea FROM good)),
                 '22P03', 'invalid serialized rfm_agg state', 'a trailing byte is rejected');
SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)', (SELECT overlay(sparse3 placing int4send(2147483647) from 65) FROM good)),
                 '22P03', 'invalid purchase-day set in serialized rfm_agg state', 'a huge sparse day count is rejected');
SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)', (SELECT overlay(sparse3 placing int4send(-1) from 65) FROM good)),
                 '22P03', 'invalid purchase-day set in serialized rfm_agg state', 'a negative sparse day count is rejected');
SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)',
                        (SELECT overlay(sparse3 placing substr(sparse3, 73, 4) || substr(sparse3, 69, 4) from 69) FROM good)),
                 '22P03', 'invalid purchase-day set in serialized rfm_agg state', 'sparse days out of order are rejected');
SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)',
                        (SELECT overlay(sparse3 placing substr(sparse3, 69, 4) from 73) FROM good)),
                 '22P03', 'invalid purchase-day set in serialized rfm_agg state', 'a repeated sparse day is rejected');
SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)', (SELECT overlay(sparse3 placing int4send(2147483647) from 77) FROM good)),
                 '22P03', 'invalid purchase-day set in serialized rfm_agg state', 'a day beyond the last date is rejected');
SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)', (SELECT overlay(sparse3 placing int8send(2) from 2) FROM good)),
                 '22P03', 'invalid serialized rfm_agg state', 'more purchase days than orders is rejected');
SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)', (SELECT overlay(dense placing int4send(9089) from 57) FROM good)),
                 '22P03', 'invalid purchase-day set in serialized rfm_agg state', 'a bitmap base off a 64-day boundary is rejected');
SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)', (SELECT overlay(dense placing int8send(0) from 69) FROM good)),
                 '22P03', 'invalid purchase-day set in serialized rfm_agg state', 'an empty end word of the bitmap is rejected');
SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)', (SELECT overlay(dense placing int4send(9100) from 77) FROM good)),
                 '22P03', 'invalid purchase-day set in serialized rfm_agg state', 'a sparse day inside the bitmap is rejected');
SELECT throws_ok(format('SELECT pg_temp.deserialize_damaged(%L)', (SELECT overlay(dense placing int4send(33554432) from 61) FROM good)),
                 '22P03', 'invalid purchase-day set in serialized rfm_agg state', 'a bitmap longer than the state is rejected');

SELECT * FROM finish();
ROLLBACK;
