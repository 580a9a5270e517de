-- Helpers of the Citus checks (tools/citus), on the coordinator only: the
-- check files call them and print unnumbered TAP lines ("ok - ...",
-- "not ok - ... # TODO ...") and comments, which tools/citus numbers.
SET citus.enable_ddl_propagation = off;
SET client_min_messages = warning;
CREATE SCHEMA citus_check;
CREATE EXTENSION dblink SCHEMA citus_check;

-- One TAP line, with an optional directive (e.g. 'TODO issue 13: ...').
CREATE FUNCTION citus_check.tap(ok boolean, description text, directive text DEFAULT NULL)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN ok THEN 'ok - ' ELSE 'not ok - ' END || description
         || coalesce(' # ' || directive, '')
$$;

-- Run a query into a temporary table; return how long it took, in ms.
CREATE FUNCTION citus_check.materialize(name text, sql text) RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz;
BEGIN
  IF to_regclass(format('pg_temp.%I', name)) IS NOT NULL THEN
    EXECUTE format('DROP TABLE pg_temp.%I', name);
  END IF;
  t0 := clock_timestamp();
  EXECUTE format('CREATE TEMP TABLE %I AS %s', name, sql);
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;

-- Rows of one temporary table missing from the other, both ways (a multiset
-- comparison: duplicates count).
CREATE FUNCTION citus_check.differences(a text, b text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((TABLE pg_temp.%1$I EXCEPT ALL TABLE pg_temp.%2$I)
                                        UNION ALL (TABLE pg_temp.%2$I EXCEPT ALL TABLE pg_temp.%1$I)) d', a, b)
    INTO n;
  RETURN n;
END $$;

-- The same query text on the local and the distributed orders: identical
-- rows?  In sql, {orders} stands for loc.orders, then dist.orders, and
-- {schema} for loc, then dist.
CREATE FUNCTION citus_check.same(description text, sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  t_local double precision;
  t_dist double precision;
  n_local bigint;
  n_dist bigint;
  diff bigint;
BEGIN
  t_local := citus_check.materialize('result_local',
                                     replace(replace(sql, '{orders}', 'loc.orders'), '{schema}', 'loc'));
  t_dist := citus_check.materialize('result_dist',
                                    replace(replace(sql, '{orders}', 'dist.orders'), '{schema}', 'dist'));
  EXECUTE 'SELECT count(*) FROM pg_temp.result_local' INTO n_local;
  EXECUTE 'SELECT count(*) FROM pg_temp.result_dist' INTO n_dist;
  diff := citus_check.differences('result_local', 'result_dist');
  RETURN citus_check.tap(diff = 0 AND n_local = n_dist,
           format('%s: distributed = local (%s rows; local %s ms, distributed %s ms)',
                  description, n_local, round(t_local::numeric), round(t_dist::numeric)),
           CASE WHEN diff <> 0 OR n_local <> n_dist
                THEN format('%s rows differ (local %s rows, distributed %s)', diff, n_local, n_dist) END);
EXCEPTION WHEN OTHERS THEN
  RETURN citus_check.tap(false, description, 'error: ' || SQLERRM);
END $$;

-- After citus_check.same on a one-row result: every number of the two rows
-- within a relative tolerance, everything else equal.
CREATE FUNCTION citus_check.close(description text, tolerance double precision) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  worst double precision;
  differing text;
BEGIN
  EXECUTE $q$
    SELECT max(abs(l.value::text::float8 - d.value::text::float8)
               / greatest(abs(l.value::text::float8), 1e-300))
             FILTER (WHERE jsonb_typeof(l.value) = 'number' AND jsonb_typeof(d.value) = 'number'),
           string_agg(l.key, ', ') FILTER (WHERE NOT (l.value = d.value OR
             (jsonb_typeof(l.value) = 'number' AND jsonb_typeof(d.value) = 'number' AND
              abs(l.value::text::float8 - d.value::text::float8) <= $1 * abs(l.value::text::float8))))
      FROM (SELECT to_jsonb(x) AS j FROM pg_temp.result_local x) lr,
           (SELECT to_jsonb(x) AS j FROM pg_temp.result_dist x) dr,
           jsonb_each(lr.j) l JOIN jsonb_each(dr.j) d USING (key)$q$
    INTO worst, differing USING tolerance;
  RETURN citus_check.tap(differing IS NULL,
           format('%s: distributed within %s of local (largest relative difference %s)',
                  description, tolerance, coalesce(worst, 0)),
           CASE WHEN differing IS NOT NULL THEN 'differ: ' || differing END);
END $$;

-- Where the work of a query happens, from its EXPLAIN (ANALYZE, VERBOSE,
-- FORMAT JSON): the distributed scans' tasks, the rows they returned to the
-- coordinator and Citus's "Tuple data received from nodes" (which Citus
-- prints rounded, by pg_size_pretty), the plan nodes that run on the
-- coordinator, and the top of the first task's remote plan.
CREATE TYPE citus_check.placement AS (
  tasks integer,
  rows_received bigint,
  bytes_received bigint,
  coordinator text,
  worker text,
  ms double precision
);

CREATE FUNCTION citus_check.placement_of(plan jsonb) RETURNS citus_check.placement
LANGUAGE sql STABLE AS $$
  WITH RECURSIVE coordinator(node, depth) AS (
    SELECT plan -> 0 -> 'Plan', 0
    UNION ALL
    SELECT c, depth + 1 FROM coordinator, jsonb_array_elements(node -> 'Plans') c
  ),
  scans AS (
    SELECT s FROM jsonb_path_query(plan, 'strict $.** ? (@."Custom Plan Provider" == "Citus Adaptive")') s
  ),
  remote AS (
    SELECT r -> 0 -> 0 -> 'Plan' AS top
      FROM jsonb_path_query(plan, 'strict $.**."Remote Plan"') r LIMIT 1
  ),
  remote_nodes(node, depth) AS (
    SELECT top, 0 FROM remote
    UNION ALL
    SELECT c, depth + 1 FROM remote_nodes, jsonb_array_elements(node -> 'Plans') c WHERE depth < 2
  )
  SELECT (SELECT sum((t #>> '{}')::integer)::integer
            FROM jsonb_path_query(plan, 'strict $.**."Task Count"') t),
         (SELECT sum((s ->> 'Actual Rows')::bigint * (s ->> 'Actual Loops')::bigint)::bigint FROM scans),
         (SELECT sum(pg_size_bytes(b #>> '{}'))::bigint
            FROM jsonb_path_query(plan, 'strict $.**."Tuple data received from nodes"') b),
         (SELECT string_agg(concat_ws(' ', node ->> 'Node Type', node ->> 'Strategy'), ' > ' ORDER BY depth)
            FROM coordinator),
         (SELECT string_agg(concat_ws(' ', node ->> 'Node Type', node ->> 'Strategy'), ' > ' ORDER BY depth)
            FROM remote_nodes),
         (plan -> 0 ->> 'Execution Time')::double precision
$$;

-- EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) of a query, working around two bugs
-- of Citus 13.2.2 (each announced by a NOTICE):
-- - EXPLAIN ANALYZE fails on every aggregate that Citus splits into
--   worker_partial_agg and coord_combine_agg ('column "field_0" has
--   pseudo-type cstring', citusdata/citus#4043, open since 2020): for a plan
--   with worker_partial_agg, EXPLAIN VERBOSE without ANALYZE, which gives the
--   plan shapes but no received rows or bytes (citus_check.placement counts
--   the rows on the workers instead);
-- - EXPLAIN ANALYZE fails on a composite result column (such as lifecycle.rfm)
--   with the binary protocol ("invalid input syntax for type bigint"), though
--   the query itself runs: explain it again with the text protocol, which is
--   what a normal run uses for a row type anyway (Citus's
--   CanUseBinaryCopyFormatForType says no to row types).
CREATE FUNCTION citus_check.explain(sql text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  plan json;
  binary_error text;
BEGIN
  EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) ' || sql INTO plan;
  IF plan::text LIKE '%worker\_partial\_agg(%' THEN
    RAISE NOTICE 'EXPLAIN ANALYZE fails with worker_partial_agg (citusdata/citus#4043): plan shapes from EXPLAIN VERBOSE, rows counted on the workers';
    RETURN plan::jsonb;
  END IF;
  BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) ' || sql INTO plan;
    RETURN plan::jsonb;
  EXCEPTION WHEN OTHERS THEN
    binary_error := SQLERRM;
  END;
  PERFORM set_config('citus.enable_binary_protocol', 'off', true);
  EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) ' || sql INTO plan;
  PERFORM set_config('citus.enable_binary_protocol', 'on', true);
  RAISE NOTICE 'EXPLAIN ANALYZE failed with the binary protocol (%), measured with the text protocol',
    regexp_replace(binary_error, '"[^"]*"', '"..."');
  RETURN plan::jsonb;
END $$;

-- Rows that the workers' statements on shards of orders returned while a
-- query ran (pg_stat_statements on the workers): what crossed to the
-- coordinator, when EXPLAIN ANALYZE cannot say.  A worker records a
-- statement when its portal is dropped, which inside a remote transaction
-- block (Citus opens one for the remote EXPLAIN of citus_check.explain)
-- waits for the next statement: so the query runs in a session of its own,
-- through dblink.
CREATE FUNCTION citus_check.worker_rows(sql text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  previous bigint;
BEGIN
  PERFORM run_command_on_workers('SELECT pg_stat_statements_reset()');
  PERFORM citus_check.dblink_exec(format('host=%s port=%s dbname=%s user=%s', split_part(current_setting('unix_socket_directories'), ',', 1),
                             current_setting('port'), current_database(), current_user),
                      'CREATE TEMP TABLE worker_rows_result AS ' || sql);
  -- A worker's backend records a statement after it has sent the rows: read
  -- until two reads agree.
  FOR i IN 1..50 LOOP
    previous := n;
    SELECT sum(result::bigint) INTO n
      FROM run_command_on_workers($q$SELECT coalesce(sum(rows), 0) FROM pg_stat_statements
                                     WHERE query ~ '\morders_[0-9]+\M' AND query NOT LIKE '%pg_stat_statements%'$q$);
    EXIT WHEN n = previous;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN n;
END $$;

CREATE FUNCTION citus_check.placement(sql text) RETURNS citus_check.placement
LANGUAGE plpgsql AS $$
DECLARE
  p citus_check.placement := citus_check.placement_of(citus_check.explain(sql));
BEGIN
  IF p.rows_received IS NULL THEN
    p.rows_received := citus_check.worker_rows(sql);
  END IF;
  RETURN p;
END $$;

-- One comment line describing a placement.
CREATE FUNCTION citus_check.describe(what text, p citus_check.placement) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT format('%s: %s tasks; %s rows, %s received by the coordinator; coordinator plan: %s; worker plan: %s; %s ms',
                what, p.tasks, p.rows_received, coalesce(pg_size_pretty(p.bytes_received), 'bytes unknown'),
                p.coordinator, coalesce(p.worker, '-'), coalesce(round(p.ms::numeric)::text, '-'))
$$;

-- The error a statement raises, or NULL.
CREATE FUNCTION citus_check.error_of(sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLERRM;
END $$;

-- The SQLSTATE and message of the error a statement raises; NULL if none.
CREATE FUNCTION citus_check.sqlstate_of(sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Execute a statement on every worker; the distinct results, or errors.
CREATE FUNCTION citus_check.on_workers(sql text) RETURNS text
LANGUAGE sql AS $$
  SELECT string_agg(DISTINCT CASE WHEN success THEN result ELSE 'error: ' || result END, ' | ')
    FROM run_command_on_workers(sql)
$$;

-- Plans that auto_explain logged to the coordinator's log since byte offset
-- "since", nested statements too (a segment view's refresh runs its orders
-- query through SPI).  They are read in text format: under auto_explain,
-- Citus 13.2.2 writes each task's remote plan as text even in a JSON plan,
-- which makes that JSON invalid.
CREATE FUNCTION citus_check.logged_plans(log text, since bigint) RETURNS SETOF text
LANGUAGE sql AS $$
  SELECT substr(entry, strpos(entry, 'duration:'))
    FROM regexp_split_to_table(pg_read_file(log, since, (pg_stat_file(log)).size - since),
                               E'\n(?=\\d{4}-\\d\\d-\\d\\d \\d\\d:)') entry
   WHERE entry ~ 'duration: [0-9.]+ ms  plan:'
$$;

-- The placement of a plan logged in text format (no plan shapes).
CREATE FUNCTION citus_check.placement_of_text(plan text) RETURNS citus_check.placement
LANGUAGE sql IMMUTABLE AS $$
  SELECT (SELECT sum(m[1]::integer)::integer FROM regexp_matches(plan, 'Task Count: (\d+)', 'g') m),
         (SELECT sum(m[1]::bigint * m[2]::bigint)::bigint
            FROM regexp_matches(plan, 'Custom Scan \(Citus Adaptive\)[^\n]*actual time=[0-9.]+ rows=(\d+) loops=(\d+)', 'g') m),
         (SELECT sum(pg_size_bytes(m[1]))::bigint
            FROM regexp_matches(plan, 'Tuple data received from nodes: (\d+ [a-zA-Z]+)', 'g') m),
         NULL, NULL,
         (regexp_match(plan, 'duration: ([0-9.]+) ms'))[1]::double precision
$$;

CREATE FUNCTION citus_check.log_size(log text) RETURNS bigint
LANGUAGE sql AS $$ SELECT (pg_stat_file(log)).size $$;
