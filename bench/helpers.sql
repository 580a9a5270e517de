-- Helpers bench/run creates in the benchmark database (schema bench): they
-- read a query's plan and this backend's memory from the server side.  Not
-- part of the extension.

CREATE SCHEMA IF NOT EXISTS bench;

-- A field of this backend's /proc/self/status, in kB; NULL where it cannot
-- be read (not Linux, or not a superuser).
CREATE OR REPLACE FUNCTION bench.proc_status_kb(field text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
  RETURN (regexp_match(pg_catalog.pg_read_file('/proc/self/status'),
                       field || ':\s+(\d+) kB'))[1]::bigint;
EXCEPTION WHEN OTHERS THEN
  RETURN NULL;
END $$;

-- The plan of a query (EXPLAIN FORMAT JSON, optionally ANALYZE).
CREATE OR REPLACE FUNCTION bench.plan(query text, with_analyze boolean DEFAULT false) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE format('EXPLAIN (FORMAT JSON, COSTS OFF, ANALYZE %s, TIMING OFF) %s',
                 with_analyze::text, query) INTO plan;
  RETURN plan::jsonb;
END $$;

-- The plan's nodes in pre-order, one word each: "Aggregate(Hashed,Partial)".
CREATE OR REPLACE FUNCTION bench.plan_shape(query text) RETURNS text
LANGUAGE sql AS $$
  SELECT string_agg(n->>'Node Type'
                    || coalesce('(' || nullif(concat_ws(',', n->>'Strategy', n->>'Partial Mode',
                                                        (n->>'Workers Planned') || ' workers'), '')
                                || ')', ''),
                    ' > ')
    FROM jsonb_path_query(bench.plan(query), 'strict $.**') n
   WHERE jsonb_typeof(n) = 'object' AND n ? 'Node Type'
$$;

-- Run a query once under EXPLAIN ANALYZE and report the memory it took:
-- the hash aggregate's own peak (and any spill), then this backend's
-- resident set before, its high-water mark after, and the shared memory
-- (shared buffers) mapped by then.  Call it in a fresh backend.
CREATE OR REPLACE FUNCTION bench.memory(query text,
  OUT hashagg_kb bigint, OUT hashagg_disk_kb bigint, OUT hashagg_batches bigint,
  OUT rss_before_kb bigint, OUT hwm_kb bigint, OUT shmem_kb bigint)
LANGUAGE plpgsql AS $$
DECLARE
  plan jsonb;
  node jsonb;
BEGIN
  rss_before_kb := bench.proc_status_kb('VmRSS');
  plan := bench.plan(query, true);
  hwm_kb := bench.proc_status_kb('VmHWM');
  shmem_kb := bench.proc_status_kb('RssShmem');
  SELECT n INTO node
    FROM jsonb_path_query(plan, 'strict $.** ? (@."Strategy" == "Hashed")') n LIMIT 1;
  hashagg_kb := node->>'Peak Memory Usage';
  hashagg_disk_kb := node->>'Disk Usage';
  hashagg_batches := node->>'HashAgg Batches';
END $$;
