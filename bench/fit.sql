-- Fit times of the purchase-prediction models (PRODUCT.md section 7: BG/NBD
-- on CDNOW, anchor lifetimes 52 ms, bar 10 ms, goal 2 ms).
--
-- Usage, from the repository root, in a database with the extension:
--   psql -X -d DB -f bench/fit.sql
-- It loads CDNOW, builds the per-customer BTYD rows (weeks, calibration up to
-- 1997-09-30), and times each fit, aggregation included, over :runs runs
-- (default 100) after one warm-up.  pg_temp.fit_times(relation, runs) works
-- on any relation with columns frequency, recency, t and monetary_value, e.g.
-- the per-customer rows of the 1 M-customer benchmark data.
\set ON_ERROR_STOP on
\if :{?runs}
\else
\set runs 100
\endif
SET client_min_messages = warning;

CREATE TEMP TABLE cdnow_lines (line text);
\copy cdnow_lines FROM '../shared/datasets/cdnow/CDNOW_sample.txt'
CREATE TEMP TABLE cdnow_customers AS
SELECT f[2]::int AS customer,
       (lifecycle.btyd(lifecycle.rfm_agg(to_date(f[3], 'YYYYMMDD'), f[5]::numeric), '1997-09-30', 'week')).*
  FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM cdnow_lines) l
 WHERE to_date(f[3], 'YYYYMMDD') <= '1997-09-30'
 GROUP BY 1;
ANALYZE cdnow_customers;

-- Median and fastest wall time in ms of a query over "runs" runs.
CREATE FUNCTION pg_temp.time_query(query text, runs integer,
                                   OUT median_ms numeric, OUT min_ms numeric)
LANGUAGE plpgsql AS $$
DECLARE
  times double precision[] := '{}';
  started timestamptz;
  ignored text;
BEGIN
  EXECUTE query INTO ignored;
  FOR i IN 1 .. runs LOOP
    started := clock_timestamp();
    EXECUTE query INTO ignored;
    times := times || extract(epoch FROM clock_timestamp() - started) * 1000;
  END LOOP;
  SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3), round(min(x)::numeric, 3)
    INTO median_ms, min_ms FROM unnest(times) x;
END $$;

-- Fit times over a relation of per-customer BTYD rows: a plain scan of the
-- same columns as a baseline, then each fit and the two a CLV needs.
CREATE FUNCTION pg_temp.fit_times(relation regclass, runs integer)
  RETURNS TABLE (what text, median_ms numeric, min_ms numeric)
LANGUAGE plpgsql AS $$
DECLARE
  queries text[][] := ARRAY[
    ['scan (baseline)', 'SELECT count(frequency + recency + t + monetary_value) FROM %s'],
    ['bgnbd_fit', 'SELECT (lifecycle.bgnbd_fit(frequency, recency, t)).iterations FROM %s'],
    ['mbgnbd_fit', 'SELECT (lifecycle.mbgnbd_fit(frequency, recency, t)).iterations FROM %s'],
    ['gammagamma_fit', 'SELECT (lifecycle.gammagamma_fit(frequency, monetary_value)).iterations FROM %s'],
    ['bgnbd_fit + gammagamma_fit', 'SELECT (lifecycle.bgnbd_fit(frequency, recency, t)).iterations
                                          + (lifecycle.gammagamma_fit(frequency, monetary_value)).iterations FROM %s']];
BEGIN
  FOR i IN 1 .. array_length(queries, 1) LOOP
    what := queries[i][1];
    SELECT t.median_ms, t.min_ms INTO median_ms, min_ms
      FROM pg_temp.time_query(format(queries[i][2], relation), runs) t;
    RETURN NEXT;
  END LOOP;
END $$;

SELECT count(*) AS customers, count(DISTINCT (frequency, recency, t)) AS distinct_rows FROM cdnow_customers;
SELECT * FROM pg_temp.fit_times('cdnow_customers', :runs);

-- The fitted parameters over a relation of per-customer rows, one line each:
-- 'recovery', label, parameter, estimate, standard error; alpha is given
-- in days (days_per_unit: 1 for rows in days, 7 in weeks).
CREATE FUNCTION pg_temp.recovery(relation regclass, label text, days_per_unit float8)
  RETURNS TABLE (tag text, source text, parameter text, estimate float8, se float8)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT 'recovery', %L, x.*
      FROM (SELECT (lifecycle.bgnbd_fit(frequency, recency, t)).* FROM %s) b,
           (SELECT (lifecycle.gammagamma_fit(frequency, monetary_value)).* FROM %s) g,
           LATERAL (VALUES ('bgnbd_r', b.r, b.r_se), ('bgnbd_alpha_days', b.alpha * %s, b.alpha_se * %s),
                           ('bgnbd_a', b.a, b.a_se), ('bgnbd_b', b.b, b.b_se),
                           ('gg_p', g.p, g.p_se), ('gg_q', g.q, g.q_se), ('gg_gamma', g.gamma, g.gamma_se)) x$q$,
    label, relation, relation, days_per_unit, days_per_unit);
END $$;
