-- Money in the summary aggregate is exact for any numeric: ordinary prices,
-- mixed display scales, totals beyond 64-bit integers, huge and tiny values,
-- under serial, sorted and parallel plans.  Each total is checked against
-- the built-in sum over the same rows, as text, so the display scale must
-- match too (sum(numeric) keeps the largest scale added).
BEGIN;
SELECT plan(15);

CREATE TABLE money_rows (customer int, day date, amount numeric);
INSERT INTO money_rows VALUES
  (1, '2024-01-01', 10.00), (1, '2024-01-02', 5.25), (1, '2024-01-03', -3.10),  -- cents
  (2, '2024-01-01', 1.5), (2, '2024-01-01', 2.25), (2, '2024-01-04', 3),        -- mixed scales
  (3, '2024-01-01', 1), (3, '2024-01-02', 2),                                   -- integers
  (4, '2024-01-01', 50000000000000000.00), (4, '2024-01-02', 50000000000000000.00), -- total > int64 units
  (5, '2024-01-01', 1e25), (5, '2024-01-01', 0.01),                              -- one value > int64
  (6, '2024-01-01', 0.0000000000000000001), (6, '2024-01-02', 1.5),             -- scale 19
  (7, '2024-01-01', 1e300), (7, '2024-01-02', -1e-300),                         -- stored in the long form
  (8, '2024-01-01', -0.00), (8, '2024-01-02', NULL),                            -- zero is a purchase
  (9, '2024-01-01', 7.00), (9, '2024-01-05', -1e20),                            -- a huge refund
  (10, '2024-01-03', 7.00), (10, '2024-01-01', 2.50), (10, '2024-01-01', 1.25), -- first day comes later
  (11, '2024-01-05', 1e25), (11, '2024-01-01', 2.00),                           -- a huge first day, replaced
  (12, '2024-01-01', 0.000000000000000001), (12, '2024-01-01', 10000);          -- rescaling overflows

-- The definition, with built-in aggregates only.
CREATE TABLE money_expected AS
SELECT customer,
       coalesce(sum(amount) FILTER (WHERE amount IS NULL OR amount >= 0), 0)::text AS gross,
       coalesce(-sum(amount) FILTER (WHERE amount < 0), 0)::text AS refunded,
       coalesce(sum(amount), 0)::text AS monetary,
       coalesce(sum(amount) FILTER (WHERE (amount IS NULL OR amount >= 0) AND day = first_day), 0)::text
         AS first_day_spend,
       count(*) FILTER (WHERE amount IS NULL OR amount >= 0) AS orders,
       count(*) FILTER (WHERE amount < 0) AS refunds
  FROM (SELECT *, min(day) FILTER (WHERE amount IS NULL OR amount >= 0) OVER (PARTITION BY customer) AS first_day
          FROM money_rows) r
 GROUP BY customer;

CREATE FUNCTION pg_temp.money_of(query text) RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT customer, (s).gross::text, (s).refunded::text, (s).monetary::text, (s).first_day_spend::text,
            (s).orders, (s).refunds FROM (%s) q ORDER BY customer', query);
END $$;

SELECT results_eq(
  $$SELECT * FROM pg_temp.money_of('SELECT customer, lifecycle.rfm_agg(day, amount) AS s FROM money_rows GROUP BY customer')
      AS t(customer int, gross text, refunded text, monetary text, first_day_spend text, orders bigint, refunds bigint)$$,
  $$SELECT * FROM money_expected ORDER BY customer$$,
  'every total equals the built-in sum, display scale included');

SELECT is((SELECT (lifecycle.rfm_agg(day, amount)).gross::text FROM money_rows WHERE customer = 2), '6.75',
          'mixed scales add up at the largest scale');
SELECT is((SELECT (lifecycle.rfm_agg(day, amount)).gross::text FROM money_rows WHERE customer = 8), '0.00',
          'negative zero is a zero purchase');
SELECT is((SELECT (lifecycle.rfm_agg(day, amount)).orders FROM money_rows WHERE customer = 8), 2::bigint,
          'negative zero and NULL amounts are orders');
SELECT is((SELECT (lifecycle.rfm_agg(day, amount)).first_day_spend::text FROM money_rows WHERE customer = 10), '3.75',
          'the first day''s spend restarts when an earlier day arrives');

-- The same with every customer's rows spread over many blocks, so that
-- parallel workers each see part of them and their states are combined.
CREATE TABLE money_many AS
SELECT customer, day + (r % 5) AS day, amount FROM money_rows, generate_series(1, 2000) r;
ANALYZE money_many;
CREATE TABLE money_many_expected AS
SELECT customer,
       coalesce(sum(amount) FILTER (WHERE amount IS NULL OR amount >= 0), 0)::text AS gross,
       coalesce(-sum(amount) FILTER (WHERE amount < 0), 0)::text AS refunded,
       coalesce(sum(amount), 0)::text AS monetary,
       coalesce(sum(amount) FILTER (WHERE (amount IS NULL OR amount >= 0) AND day = first_day), 0)::text
         AS first_day_spend,
       count(*) FILTER (WHERE amount IS NULL OR amount >= 0) AS orders,
       count(*) FILTER (WHERE amount < 0) AS refunds
  FROM (SELECT *, min(day) FILTER (WHERE amount IS NULL OR amount >= 0) OVER (PARTITION BY customer) AS first_day
          FROM money_many) r
 GROUP BY customer;

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
SELECT ok(pg_temp.plan_has('SELECT customer, lifecycle.rfm_agg(day, amount) AS s FROM money_many GROUP BY customer',
                           'Partial HashAggregate'), 'the plan is parallel');
SELECT results_eq(
  $$SELECT * FROM pg_temp.money_of('SELECT customer, lifecycle.rfm_agg(day, amount) AS s FROM money_many GROUP BY customer')
      AS t(customer int, gross text, refunded text, monetary text, first_day_spend text, orders bigint, refunds bigint)$$,
  $$SELECT * FROM money_many_expected ORDER BY customer$$,
  'parallel: combined states give the exact totals');
SET LOCAL enable_hashagg = off;
SELECT results_eq(
  $$SELECT * FROM pg_temp.money_of('SELECT customer, lifecycle.rfm_agg(day, amount) AS s FROM money_many GROUP BY customer')
      AS t(customer int, gross text, refunded text, monetary text, first_day_spend text, orders bigint, refunds bigint)$$,
  $$SELECT * FROM money_many_expected ORDER BY customer$$,
  'parallel sorted: combined states give the exact totals');
RESET enable_hashagg;
RESET max_parallel_workers_per_gather;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT results_eq(
  $$SELECT * FROM pg_temp.money_of('SELECT customer, lifecycle.rfm_agg(day, amount) AS s FROM money_many GROUP BY customer')
      AS t(customer int, gross text, refunded text, monetary text, first_day_spend text, orders bigint, refunds bigint)$$,
  $$SELECT * FROM money_many_expected ORDER BY customer$$,
  'serial: the same totals');

RESET max_parallel_workers_per_gather;

-- Partial states as Citus moves them: made per part of each customer's rows
-- (as on workers), passed through the state type's text form, and combined
-- (as on the coordinator), in either order of the parts.
CREATE AGGREGATE pg_temp.partial(date, numeric) (
  SFUNC = lifecycle.rfm_agg_trans_date, STYPE = lifecycle.rfm_state);
CREATE AGGREGATE pg_temp.combined(lifecycle.rfm_state) (
  SFUNC = lifecycle.rfm_agg_combine, STYPE = lifecycle.rfm_state, FINALFUNC = lifecycle.rfm_agg_final);
CREATE TABLE money_parts AS
SELECT customer, r % 3 AS part, pg_temp.partial(day, amount)::text AS state
  FROM (SELECT *, row_number() OVER () AS r FROM money_many) m
 GROUP BY customer, r % 3;
SELECT results_eq(
  $$SELECT * FROM pg_temp.money_of('SELECT customer, pg_temp.combined(state::lifecycle.rfm_state ORDER BY part) AS s
                                      FROM money_parts GROUP BY customer')
      AS t(customer int, gross text, refunded text, monetary text, first_day_spend text, orders bigint, refunds bigint)$$,
  $$SELECT * FROM money_many_expected ORDER BY customer$$,
  'partial states through their text form, combined: the exact totals');
SELECT results_eq(
  $$SELECT * FROM pg_temp.money_of('SELECT customer, pg_temp.combined(state::lifecycle.rfm_state ORDER BY part DESC) AS s
                                      FROM money_parts GROUP BY customer')
      AS t(customer int, gross text, refunded text, monetary text, first_day_spend text, orders bigint, refunds bigint)$$,
  $$SELECT * FROM money_many_expected ORDER BY customer$$,
  'the same combined in the other order');
SELECT is((SELECT count(*) FROM money_parts
            WHERE state::lifecycle.rfm_state::text <> state
               OR '\x' || encode(lifecycle.rfm_state_send(state::lifecycle.rfm_state), 'hex') <> state),
          0::bigint, 'a state''s text form is \x and its binary form in hex, and reads back as itself');
SELECT throws_ok($$SELECT 'x'::lifecycle.rfm_state$$, '22P02',
                 'invalid input syntax for type lifecycle.rfm_state', 'a state without \x is refused');
SELECT throws_ok($$SELECT '\x0'::lifecycle.rfm_state$$, '22P02',
                 'invalid input syntax for type lifecycle.rfm_state', 'an odd number of hex digits is refused');
SELECT throws_ok($$SELECT '\x02'::lifecycle.rfm_state$$, '22P03',
                 'invalid serialized rfm_agg state', 'a truncated state is refused');

SELECT * FROM finish();
ROLLBACK;
