-- The materialized segment view: settings, the view builder, the refresh
-- procedure for schedulers, the per-refresh history and the BI companion views.

-- Settings, one row per segment view.  The view's query reads its row at each
-- refresh, so a change here takes effect at the next refresh, whoever runs it.
CREATE TABLE lifecycle.segment_views (
  view_name        text PRIMARY KEY,
  orders           regclass NOT NULL,
  customer_column  name NOT NULL,
  time_column      name NOT NULL,
  amount_column    name NOT NULL,
  customers        regclass,
  customers_key    name,
  time_zone        text NOT NULL DEFAULT 'UTC',
  as_of            date,
  active_days      integer NOT NULL DEFAULT 90,
  dormant_days     integer NOT NULL DEFAULT 180,
  churn_days       integer NOT NULL DEFAULT 270,
  cadence_factor   double precision DEFAULT 3.0,
  cadence_min_days integer NOT NULL DEFAULT 30,
  score_method     text NOT NULL DEFAULT 'quantile'
                   CHECK (score_method IN ('quantile', 'rfm_r', 'ntile')),
  frequency_basis  text NOT NULL DEFAULT 'orders'
                   CHECK (frequency_basis IN ('orders', 'purchase_days')),
  rule_set         text NOT NULL DEFAULT 'default',
  btyd_unit        text NOT NULL DEFAULT 'day' CHECK (btyd_unit IN ('day', 'week')),
  models           boolean NOT NULL DEFAULT false,
  prediction_days  integer NOT NULL DEFAULT 90 CHECK (prediction_days > 0),
  clv_periods      integer NOT NULL DEFAULT 4 CHECK (clv_periods > 0),
  clv_period_days  integer NOT NULL DEFAULT 91 CHECK (clv_period_days > 0),
  clv_discount_rate double precision NOT NULL DEFAULT 0.025
                   CHECK (clv_discount_rate >= 0 AND clv_discount_rate < 'Infinity'::double precision),
  lock_timeout     interval NOT NULL DEFAULT '10 minutes',
  keep_transitions boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CHECK (0 < active_days AND active_days <= dormant_days AND dormant_days <= churn_days),
  CHECK (cadence_factor > 0 AND cadence_factor < 'Infinity'::double precision),
  CHECK (cadence_min_days >= 0),
  CHECK ((customers IS NULL) = (customers_key IS NULL))
);
SELECT pg_catalog.pg_extension_config_dump('lifecycle.segment_views', '');
COMMENT ON TABLE lifecycle.segment_views IS
  'Settings of each segment view; changes take effect at the next refresh';
COMMENT ON COLUMN lifecycle.segment_views.view_name IS 'The materialized view, schema-qualified';
COMMENT ON COLUMN lifecycle.segment_views.orders IS 'The orders relation the view reads';
COMMENT ON COLUMN lifecycle.segment_views.customer_column IS 'Customer key column of the orders relation';
COMMENT ON COLUMN lifecycle.segment_views.time_column IS 'Order time column (timestamptz, timestamp or date)';
COMMENT ON COLUMN lifecycle.segment_views.amount_column IS 'Order amount column; negative amounts are refunds';
COMMENT ON COLUMN lifecycle.segment_views.customers IS 'Optional customers relation: its customers without orders appear as prospects';
COMMENT ON COLUMN lifecycle.segment_views.customers_key IS 'Customer key column of the customers relation';
COMMENT ON COLUMN lifecycle.segment_views.time_zone IS 'Zone whose calendar days count (for timestamptz order times)';
COMMENT ON COLUMN lifecycle.segment_views.as_of IS 'Fixed as-of date; NULL means today in time_zone at each refresh';
COMMENT ON COLUMN lifecycle.segment_views.active_days IS 'Stage rule: at_risk beyond this many days since the last order';
COMMENT ON COLUMN lifecycle.segment_views.dormant_days IS 'Stage rule: dormant beyond this many days since the last order';
COMMENT ON COLUMN lifecycle.segment_views.churn_days IS 'Stage rule: churned beyond this many days; a gap longer than this makes a returning buyer reactivated';
COMMENT ON COLUMN lifecycle.segment_views.cadence_factor IS 'Stage rule: at_risk when overdue by this multiple of the customer''s mean interval; NULL turns the cadence rule off';
COMMENT ON COLUMN lifecycle.segment_views.cadence_min_days IS 'Stage rule: never at_risk by cadence before this many days';
COMMENT ON COLUMN lifecycle.segment_views.score_method IS 'RFM scoring: quantile, rfm_r or ntile';
COMMENT ON COLUMN lifecycle.segment_views.frequency_basis IS 'F counts orders or purchase_days';
COMMENT ON COLUMN lifecycle.segment_views.rule_set IS 'Segment rule set (lifecycle.segment_rules)';
COMMENT ON COLUMN lifecycle.segment_views.btyd_unit IS 'Time unit of the BTYD columns: day or week';
COMMENT ON COLUMN lifecycle.segment_views.models IS 'Fit BG/NBD and Gamma-Gamma over the view''s customers at each refresh and fill the prediction columns';
COMMENT ON COLUMN lifecycle.segment_views.prediction_days IS 'Horizon of expected_purchases, in days';
COMMENT ON COLUMN lifecycle.segment_views.clv_periods IS 'CLV: number of periods summed';
COMMENT ON COLUMN lifecycle.segment_views.clv_period_days IS 'CLV: length of one period, in days';
COMMENT ON COLUMN lifecycle.segment_views.clv_discount_rate IS 'CLV: discount rate per period (0.025 = 2.5 % a period)';
COMMENT ON COLUMN lifecycle.segment_views.lock_timeout IS 'How long a refresh waits for a lock before it fails';
COMMENT ON COLUMN lifecycle.segment_views.keep_transitions IS 'Keep per-customer stages of the last two refreshes to count transitions';
COMMENT ON COLUMN lifecycle.segment_views.created_at IS 'When the view was created';

CREATE SEQUENCE lifecycle.refresh_run_id;
SELECT pg_catalog.pg_extension_config_dump('lifecycle.refresh_run_id', '');
COMMENT ON SEQUENCE lifecycle.refresh_run_id IS 'Numbers refresh runs';

-- One row per refresh (and for the initial build).
CREATE TABLE lifecycle.refresh_runs (
  run_id       bigint PRIMARY KEY DEFAULT pg_catalog.nextval('lifecycle.refresh_run_id'),
  view_name    text NOT NULL REFERENCES lifecycle.segment_views ON DELETE CASCADE,
  started_at   timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  finished_at  timestamptz,
  duration     interval,
  as_of        date,
  customers    bigint,
  guest_orders bigint,
  outcome      text NOT NULL DEFAULT 'running'
               CHECK (outcome IN ('running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
  message      text,
  backend_pid  integer NOT NULL DEFAULT pg_catalog.pg_backend_pid()
);
CREATE INDEX ON lifecycle.refresh_runs (view_name, run_id);
SELECT pg_catalog.pg_extension_config_dump('lifecycle.refresh_runs', '');
COMMENT ON TABLE lifecycle.refresh_runs IS 'One row per refresh of a segment view: when, as of which day, how long, how many rows, outcome';
COMMENT ON COLUMN lifecycle.refresh_runs.run_id IS 'Refresh number';
COMMENT ON COLUMN lifecycle.refresh_runs.view_name IS 'The segment view';
COMMENT ON COLUMN lifecycle.refresh_runs.started_at IS 'Start of the refresh';
COMMENT ON COLUMN lifecycle.refresh_runs.finished_at IS 'End of the refresh';
COMMENT ON COLUMN lifecycle.refresh_runs.duration IS 'How long the refresh took';
COMMENT ON COLUMN lifecycle.refresh_runs.as_of IS 'The as-of date the refresh computed';
COMMENT ON COLUMN lifecycle.refresh_runs.customers IS 'Rows (customers) in the view after the refresh';
COMMENT ON COLUMN lifecycle.refresh_runs.guest_orders IS 'Order rows left out because their customer key is NULL (guest checkouts)';
COMMENT ON COLUMN lifecycle.refresh_runs.outcome IS 'running, succeeded, failed, cancelled, or interrupted (its backend ended mid-refresh)';
COMMENT ON COLUMN lifecycle.refresh_runs.message IS 'The error of a failed refresh';
COMMENT ON COLUMN lifecycle.refresh_runs.backend_pid IS 'Backend that ran the refresh';

-- Stage and segment counts after each successful refresh, for charts over time.
CREATE TABLE lifecycle.stage_history (
  run_id    bigint NOT NULL REFERENCES lifecycle.refresh_runs ON DELETE CASCADE,
  stage     lifecycle.stage NOT NULL,
  customers bigint NOT NULL,
  revenue   numeric NOT NULL,
  PRIMARY KEY (run_id, stage)
);
SELECT pg_catalog.pg_extension_config_dump('lifecycle.stage_history', '');
COMMENT ON TABLE lifecycle.stage_history IS 'Customers and net revenue per stage at each refresh';
COMMENT ON COLUMN lifecycle.stage_history.run_id IS 'The refresh (lifecycle.refresh_runs)';
COMMENT ON COLUMN lifecycle.stage_history.stage IS 'Lifecycle stage';
COMMENT ON COLUMN lifecycle.stage_history.customers IS 'Customers in the stage';
COMMENT ON COLUMN lifecycle.stage_history.revenue IS 'Their net revenue to date';

CREATE TABLE lifecycle.segment_history (
  run_id    bigint NOT NULL REFERENCES lifecycle.refresh_runs ON DELETE CASCADE,
  segment   text NOT NULL,
  customers bigint NOT NULL,
  revenue   numeric NOT NULL,
  PRIMARY KEY (run_id, segment)
);
SELECT pg_catalog.pg_extension_config_dump('lifecycle.segment_history', '');
COMMENT ON TABLE lifecycle.segment_history IS 'Customers and net revenue per RFM segment at each refresh (customers without a purchase are left out)';
COMMENT ON COLUMN lifecycle.segment_history.run_id IS 'The refresh (lifecycle.refresh_runs)';
COMMENT ON COLUMN lifecycle.segment_history.segment IS 'RFM segment';
COMMENT ON COLUMN lifecycle.segment_history.customers IS 'Customers in the segment';
COMMENT ON COLUMN lifecycle.segment_history.revenue IS 'Their net revenue to date';

-- Per-customer stages of the last two refreshes of each view, so that
-- transitions can be counted; older snapshots are deleted at each refresh.
CREATE TABLE lifecycle.stage_snapshots (
  run_id   bigint NOT NULL REFERENCES lifecycle.refresh_runs ON DELETE CASCADE,
  customer text NOT NULL,
  stage    lifecycle.stage NOT NULL,
  PRIMARY KEY (run_id, customer)
);
SELECT pg_catalog.pg_extension_config_dump('lifecycle.stage_snapshots', '');
COMMENT ON TABLE lifecycle.stage_snapshots IS 'Each customer''s stage at the last two refreshes of a view (key as text)';
COMMENT ON COLUMN lifecycle.stage_snapshots.run_id IS 'The refresh (lifecycle.refresh_runs)';
COMMENT ON COLUMN lifecycle.stage_snapshots.customer IS 'Customer key, as text';
COMMENT ON COLUMN lifecycle.stage_snapshots.stage IS 'Stage at that refresh';

CREATE TABLE lifecycle.transition_history (
  run_id     bigint NOT NULL REFERENCES lifecycle.refresh_runs ON DELETE CASCADE,
  from_stage lifecycle.stage,
  to_stage   lifecycle.stage,
  customers  bigint NOT NULL
);
CREATE INDEX ON lifecycle.transition_history (run_id);
SELECT pg_catalog.pg_extension_config_dump('lifecycle.transition_history', '');
COMMENT ON TABLE lifecycle.transition_history IS 'Stage-to-stage moves between a refresh and the one before it';
COMMENT ON COLUMN lifecycle.transition_history.run_id IS 'The later refresh (lifecycle.refresh_runs)';
COMMENT ON COLUMN lifecycle.transition_history.from_stage IS 'Stage at the previous refresh; NULL for customers new to the view';
COMMENT ON COLUMN lifecycle.transition_history.to_stage IS 'Stage at this refresh; NULL for customers no longer in the view';
COMMENT ON COLUMN lifecycle.transition_history.customers IS 'Customers who moved so';

-- The models fitted at each refresh of a view whose settings switch them on.
CREATE TABLE lifecycle.model_history (
  run_id    bigint PRIMARY KEY REFERENCES lifecycle.refresh_runs ON DELETE CASCADE,
  purchases lifecycle.bgnbd,
  spend     lifecycle.gammagamma
);
SELECT pg_catalog.pg_extension_config_dump('lifecycle.model_history', '');
COMMENT ON TABLE lifecycle.model_history IS 'BG/NBD and Gamma-Gamma fits of each refresh (parameters in the view''s BTYD unit)';
COMMENT ON COLUMN lifecycle.model_history.run_id IS 'The refresh (lifecycle.refresh_runs)';
COMMENT ON COLUMN lifecycle.model_history.purchases IS 'BG/NBD fit over the view''s buyers';
COMMENT ON COLUMN lifecycle.model_history.spend IS 'Gamma-Gamma fit over the view''s repeat buyers';

-- The SQL type of a column, or an error naming what is missing.
CREATE FUNCTION lifecycle._column_type(rel regclass, col name) RETURNS regtype
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  typ regtype;
BEGIN
  SELECT a.atttypid INTO typ FROM pg_attribute a
   WHERE a.attrelid = rel AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
  IF typ IS NULL THEN
    RAISE EXCEPTION 'column "%" does not exist in %', col, rel
      USING ERRCODE = 'undefined_column';
  END IF;
  RETURN typ;
END $$;
COMMENT ON FUNCTION lifecycle._column_type(regclass, name) IS 'Internal: type of a column of a relation';

-- The SELECT that a segment view materializes, written for one orders
-- relation.  Names reach it only through regclass and %I; the settings are
-- read from lifecycle.segment_views at each refresh.
-- Every customer's summary facts, derived values and stage in one pass over
-- the orders (src/facts.c): what a segment view's query is built on.
CREATE FUNCTION lifecycle._customer_facts(
  orders regclass, customer_column name, time_column name, amount_column name,
  customers regclass, customers_key name, time_zone text, as_of date, btyd_unit text,
  active_days integer, dormant_days integer, churn_days integer,
  cadence_factor double precision, cadence_min_days integer, score_method text, frequency_basis text,
  models boolean, prediction_days integer, clv_periods integer, clv_period_days integer,
  clv_discount_rate double precision)
  RETURNS SETOF record LANGUAGE c STABLE PARALLEL UNSAFE
  AS 'MODULE_PATHNAME', 'customer_facts';
COMMENT ON FUNCTION lifecycle._customer_facts(regclass, name, name, name, regclass, name, text, date, text,
                                              integer, integer, integer, double precision, integer, text, text,
                                              boolean, integer, integer, integer, double precision) IS
  'Internal: one row of summary facts, derived values, stage, scores and predictions per customer, for segment views';

CREATE FUNCTION lifecycle._segment_view_query(settings lifecycle.segment_views) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  key_type regtype := lifecycle._column_type(settings.orders, settings.customer_column);
BEGIN
  -- The relations are regclass constants, so that the view depends on them;
  -- the facts function checks the columns' types at each refresh.
  RETURN format($q$
WITH settings AS MATERIALIZED (
  SELECT v.*, coalesce(v.as_of, (now() AT TIME ZONE v.time_zone)::date) AS as_of_day
    FROM lifecycle.segment_views v WHERE v.view_name = %1$L
),
-- Not materialized: each branch of "scored" below reads it, but only the
-- branch of the view's score method runs, so the facts are computed once.
base AS NOT MATERIALIZED (
  SELECT f.*
    FROM settings s,
         lifecycle._customer_facts(%2$L::regclass, %3$L, %4$L, %5$L, %6$L::regclass, %7$L,
                                   s.time_zone, s.as_of_day, s.btyd_unit, s.active_days, s.dormant_days,
                                   s.churn_days, s.cadence_factor, s.cadence_min_days, s.score_method,
                                   s.frequency_basis, s.models, s.prediction_days, s.clv_periods,
                                   s.clv_period_days, s.clv_discount_rate)
           AS f(customer %8$s, first_purchase date, last_purchase date, previous_purchase date,
                orders bigint, purchase_days integer, monetary numeric, gross numeric, refunds bigint,
                refunded numeric, days_since_last_order integer, tenure_days integer,
                mean_interval_days numeric, aov numeric, btyd_frequency integer,
                btyd_recency double precision, btyd_t double precision, btyd_monetary_value numeric,
                stage lifecycle.stage, frequency bigint, r_score integer, f_score integer, m_score integer,
                p_alive double precision, expected_purchases double precision,
                expected_spend double precision, clv double precision)
),
-- quantile and rfm_r scores come with the facts; ntile ranks with windows
scored AS (
  SELECT b.*, b.r_score AS r, b.f_score AS f, b.m_score AS m
    FROM base b
   WHERE (SELECT score_method FROM settings) <> 'ntile'
  UNION ALL
  SELECT b.*,
         CASE WHEN b.days_since_last_order IS NOT NULL THEN
           ntile(5) OVER (PARTITION BY b.days_since_last_order IS NULL
                          ORDER BY b.days_since_last_order DESC, b.customer) END,
         CASE WHEN b.days_since_last_order IS NOT NULL THEN
           ntile(5) OVER (PARTITION BY b.days_since_last_order IS NULL ORDER BY b.frequency, b.customer) END,
         CASE WHEN b.days_since_last_order IS NOT NULL THEN
           ntile(5) OVER (PARTITION BY b.days_since_last_order IS NULL ORDER BY b.monetary, b.customer) END
    FROM base b
   WHERE (SELECT score_method FROM settings) = 'ntile'
),
segments AS (
  SELECT sm.* FROM settings s, lifecycle.segment_map(s.rule_set) sm
)
SELECT c.customer AS %9$I,
       s.as_of_day AS as_of,
       c.stage,
       g.segment,
       c.r AS r_score, c.f AS f_score, c.m AS m_score,
       c.first_purchase, c.last_purchase, c.previous_purchase,
       coalesce(c.orders, 0) AS orders,
       coalesce(c.purchase_days, 0) AS purchase_days,
       coalesce(c.monetary, 0) AS monetary,
       coalesce(c.gross, 0) AS gross,
       coalesce(c.refunds, 0) AS refunds,
       coalesce(c.refunded, 0) AS refunded,
       c.days_since_last_order,
       c.tenure_days,
       c.mean_interval_days,
       c.aov,
       c.btyd_frequency, c.btyd_recency, c.btyd_t, c.btyd_monetary_value,
       c.p_alive, c.expected_purchases, c.expected_spend, c.clv
  FROM scored c
 CROSS JOIN settings s
  LEFT JOIN segments g ON g.r = c.r AND g.f = c.f AND g.m = c.m
$q$, settings.view_name, settings.orders::text, settings.customer_column,
    settings.time_column, settings.amount_column, settings.customers::text, settings.customers_key,
    key_type, settings.customer_column);
END $$;
COMMENT ON FUNCTION lifecycle._segment_view_query(lifecycle.segment_views) IS
  'Internal: the query a segment view materializes';

-- A schema-qualified, quoted name for a new view: unqualified names go to
-- the schema of the orders relation.
CREATE FUNCTION lifecycle._qualified_view_name(view_name text, orders regclass) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  parts text[] := parse_ident(view_name);
  orders_schema name;
BEGIN
  IF cardinality(parts) = 1 THEN
    SELECT n.nspname INTO STRICT orders_schema
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = orders;
    parts := ARRAY[orders_schema, parts[1]];
  ELSIF cardinality(parts) <> 2 THEN
    RAISE EXCEPTION 'invalid view name "%"', view_name
      USING ERRCODE = 'invalid_name', HINT = 'Use name or schema.name.';
  END IF;
  RETURN format('%I.%I', parts[1], parts[2]);
END $$;
COMMENT ON FUNCTION lifecycle._qualified_view_name(text, regclass) IS
  'Internal: the quoted schema.name of a new segment view';

-- The BI companion views of a segment view, named <view>_stage_summary,
-- <view>_segment_summary, <view>_retention_monthly and <view>_transitions.
CREATE FUNCTION lifecycle._companion_names(view_name text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
BEGIN ATOMIC
  SELECT ARRAY(SELECT pg_catalog.format('%I.%I', p[1], p[2] OPERATOR(pg_catalog.||) suffix)
                 FROM (SELECT pg_catalog.parse_ident(view_name) AS p) q,
                      unnest(ARRAY['_stage_summary', '_segment_summary', '_retention_monthly', '_transitions']) suffix);
END;
COMMENT ON FUNCTION lifecycle._companion_names(text) IS
  'Internal: the names of a segment view''s companion views, in creation order';

-- Create the companion views of a segment view.
CREATE FUNCTION lifecycle._create_companions(settings lifecycle.segment_views) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  names text[] := lifecycle._companion_names(settings.view_name);
  time_type regtype := lifecycle._column_type(settings.orders, settings.time_column);
  month_expr text;
  agg_call text;
BEGIN
  EXECUTE format($v$
    CREATE VIEW %1$s AS
    SELECT v.stage, count(*) AS customers,
           round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS share_pct,
           sum(v.orders) AS orders, sum(v.monetary) AS revenue
      FROM %2$s v GROUP BY v.stage$v$, names[1], settings.view_name);
  EXECUTE format('COMMENT ON VIEW %s IS %L', names[1], 'Customers, share, orders and net revenue per lifecycle stage');
  EXECUTE format($v$
    CREATE VIEW %1$s AS
    SELECT v.segment, count(*) AS customers,
           round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS share_pct,
           sum(v.orders) AS orders, sum(v.monetary) AS revenue,
           sum(v.gross) / nullif(sum(v.orders), 0) AS aov
      FROM %2$s v WHERE v.segment IS NOT NULL GROUP BY v.segment$v$, names[2], settings.view_name);
  EXECUTE format('COMMENT ON VIEW %s IS %L', names[2],
                 'Customers, share, orders, net revenue and average order value per RFM segment (buyers only)');

  CASE time_type
    WHEN 'timestamp with time zone'::regtype THEN
      month_expr := 'date_trunc(''month'', o.%2$I AT TIME ZONE s.time_zone)::date';
      agg_call := 'lifecycle.rfm_agg(o.%2$I, o.%4$I::numeric, s.time_zone)';
    ELSE
      month_expr := 'date_trunc(''month'', o.%2$I)::date';
      agg_call := 'lifecycle.rfm_agg(o.%2$I, o.%4$I::numeric)';
  END CASE;
  EXECUTE format($v$
    CREATE VIEW %3$s AS
    WITH per_customer AS (
      SELECT $v$ || month_expr || $v$ AS month, $v$ || agg_call || $v$ AS summary
        FROM %5$s o, lifecycle.segment_views s
       WHERE s.view_name = %6$L AND o.%1$I IS NOT NULL AND o.%2$I IS NOT NULL
       GROUP BY 1, o.%1$I),
    totals AS (
      SELECT month,
             lifecycle.retention_of(count(*) FILTER (WHERE (summary).orders > 0),
                                    sum((summary).orders)::bigint,
                                    sum((summary).gross),
                                    count(*) FILTER (WHERE (summary).orders >= 2),
                                    sum((summary).refunds)::bigint,
                                    sum((summary).refunded)) AS r
        FROM per_customer GROUP BY month)
    SELECT month, (r).* FROM totals ORDER BY month$v$,
    settings.customer_column, settings.time_column, names[3], settings.amount_column,
    settings.orders, settings.view_name);
  EXECUTE format('COMMENT ON VIEW %s IS %L', names[3],
                 'Retention metrics (as lifecycle.retention_metrics) per calendar month in the view''s time zone, computed from the orders at query time');

  EXECUTE format($v$
    CREATE VIEW %1$s AS
    SELECT t.from_stage, t.to_stage, t.customers, r.as_of
      FROM lifecycle.transition_history t JOIN lifecycle.refresh_runs r USING (run_id)
     WHERE t.run_id = (SELECT max(run_id) FROM lifecycle.refresh_runs
                        WHERE view_name = %2$L AND outcome = 'succeeded')$v$,
    names[4], settings.view_name);
  EXECUTE format('COMMENT ON VIEW %s IS %L', names[4],
                 'Stage-to-stage moves between the last two successful refreshes');
END $$;
COMMENT ON FUNCTION lifecycle._create_companions(lifecycle.segment_views) IS
  'Internal: create the BI companion views of a segment view';

-- After a build or refresh: the run's row counts, stage and segment counts,
-- and (when kept) per-customer stages and the transitions since the last run.
CREATE FUNCTION lifecycle._record_refresh(run bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r lifecycle.refresh_runs;
  v lifecycle.segment_views;
  previous bigint;
  n bigint;
  day date;
  guests bigint;
BEGIN
  SELECT * INTO STRICT r FROM lifecycle.refresh_runs WHERE run_id = run;
  SELECT * INTO STRICT v FROM lifecycle.segment_views WHERE view_name = r.view_name;

  EXECUTE format('SELECT count(*), max(as_of) FROM %s', v.view_name) INTO n, day;
  EXECUTE format('SELECT count(*) FROM %s WHERE %I IS NULL', v.orders, v.customer_column) INTO guests;
  EXECUTE format('INSERT INTO lifecycle.stage_history
                  SELECT %s, stage, count(*), sum(monetary) FROM %s GROUP BY stage', run, v.view_name);
  EXECUTE format('INSERT INTO lifecycle.segment_history
                  SELECT %s, segment, count(*), sum(monetary) FROM %s WHERE segment IS NOT NULL GROUP BY segment',
                 run, v.view_name);

  IF v.models THEN
    EXECUTE format('INSERT INTO lifecycle.model_history
                    SELECT %s, lifecycle.bgnbd_fit(btyd_frequency, btyd_recency, btyd_t),
                           lifecycle.gammagamma_fit(btyd_frequency, btyd_monetary_value::double precision)
                      FROM %s WHERE btyd_frequency IS NOT NULL', run, v.view_name);
  END IF;

  IF v.keep_transitions THEN
    SELECT max(p.run_id) INTO previous FROM lifecycle.refresh_runs p
     WHERE p.view_name = v.view_name AND p.run_id < run AND p.outcome = 'succeeded';
    EXECUTE format('INSERT INTO lifecycle.stage_snapshots SELECT %s, %I::text, stage FROM %s',
                   run, v.customer_column, v.view_name);
    IF previous IS NOT NULL THEN
      INSERT INTO lifecycle.transition_history
      SELECT run, p.stage, c.stage, count(*)
        FROM (SELECT * FROM lifecycle.stage_snapshots WHERE run_id = previous) p
        FULL JOIN (SELECT * FROM lifecycle.stage_snapshots WHERE run_id = run) c USING (customer)
       GROUP BY p.stage, c.stage;
      DELETE FROM lifecycle.stage_snapshots s USING lifecycle.refresh_runs o
       WHERE s.run_id = o.run_id AND o.view_name = v.view_name AND o.run_id < previous;
    END IF;
  END IF;

  UPDATE lifecycle.refresh_runs
     SET finished_at = clock_timestamp(), duration = clock_timestamp() - started_at,
         as_of = day, customers = n, guest_orders = guests, outcome = 'succeeded'
   WHERE run_id = run;
END $$;
COMMENT ON FUNCTION lifecycle._record_refresh(bigint) IS
  'Internal: record the counts, history and transitions of a finished build or refresh';

-- COMMENT ON the segment view and each of its columns, for BI tools.
CREATE FUNCTION lifecycle._comment_view(settings lifecycle.segment_views) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  c record;
BEGIN
  EXECUTE format('COMMENT ON MATERIALIZED VIEW %s IS %L', settings.view_name,
    format('lifecycle segment view over %s: one row per customer, refreshed by CALL lifecycle.refresh_segment_view(%L)',
           settings.orders, settings.view_name));
  FOR c IN SELECT * FROM (VALUES
      (settings.customer_column, 'Customer key'),
      ('as_of', 'The day the view was computed for (fixed at refresh)'),
      ('stage', 'Lifecycle stage: prospect, new, active, at_risk, dormant, churned or reactivated'),
      ('segment', 'Named RFM segment from the view''s rule set; Others if no rule matches; NULL without a purchase'),
      ('r_score', 'Recency score 1-5 (5 = bought most recently)'),
      ('f_score', 'Frequency score 1-5 (5 = buys most often)'),
      ('m_score', 'Monetary score 1-5 (5 = spends most, net of refunds)'),
      ('first_purchase', 'Day of the first purchase'),
      ('last_purchase', 'Day of the last purchase'),
      ('previous_purchase', 'The purchase day before the last one'),
      ('orders', 'Purchase rows (refunds are not orders)'),
      ('purchase_days', 'Distinct purchase days'),
      ('monetary', 'Net revenue: purchases minus refunds'),
      ('gross', 'Purchase value before refunds'),
      ('refunds', 'Refund rows'),
      ('refunded', 'Total refunded, positive'),
      ('days_since_last_order', 'RFM recency: days from the last purchase to as_of'),
      ('tenure_days', 'Days from the first purchase to as_of'),
      ('mean_interval_days', 'Mean days between purchase days'),
      ('aov', 'Average order value: purchase value / orders'),
      ('btyd_frequency', 'BTYD frequency: repeat purchase days'),
      ('btyd_recency', 'BTYD recency: age at the last purchase (last - first purchase), in the view''s BTYD unit'),
      ('btyd_t', 'BTYD T: age at as_of (as_of - first purchase), in the view''s BTYD unit'),
      ('btyd_monetary_value', 'BTYD monetary value: mean spend of the repeat purchase days'),
      ('p_alive', 'Probability the customer is still active (BG/NBD fitted at the refresh); NULL unless the view''s models are on'),
      ('expected_purchases', 'Expected purchase days in the next prediction_days days (BG/NBD)'),
      ('expected_spend', 'Expected value of a future purchase day (Gamma-Gamma)'),
      ('clv', 'Customer lifetime value: expected spend over clv_periods periods of clv_period_days days, discounted by clv_discount_rate a period')) AS x(col, text)
  LOOP
    EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', settings.view_name, c.col, c.text);
  END LOOP;
END $$;
COMMENT ON FUNCTION lifecycle._comment_view(lifecycle.segment_views) IS
  'Internal: comment a segment view and its columns';

CREATE FUNCTION lifecycle.create_segment_view(
  view_name        text,
  orders           regclass,
  customer_column  name,
  time_column      name,
  amount_column    name,
  customers        regclass DEFAULT NULL,
  customers_key    name DEFAULT NULL,
  time_zone        text DEFAULT 'UTC',
  as_of            date DEFAULT NULL,
  active_days      integer DEFAULT 90,
  dormant_days     integer DEFAULT 180,
  churn_days       integer DEFAULT 270,
  cadence_factor   double precision DEFAULT 3.0,
  cadence_min_days integer DEFAULT 30,
  score_method     text DEFAULT 'quantile',
  frequency_basis  text DEFAULT 'orders',
  rule_set         text DEFAULT 'default',
  btyd_unit        text DEFAULT 'day',
  models           boolean DEFAULT false,
  prediction_days  integer DEFAULT 90,
  clv_periods      integer DEFAULT 4,
  clv_period_days  integer DEFAULT 91,
  clv_discount_rate double precision DEFAULT 0.025
) RETURNS regclass
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v lifecycle.segment_views;
  run bigint;
  amount_type regtype;
BEGIN
  IF NOT has_table_privilege(orders, 'SELECT') THEN
    RAISE EXCEPTION 'permission denied for %', orders USING ERRCODE = 'insufficient_privilege',
      HINT = 'A segment view reads the whole orders relation: its creator needs SELECT on it.';
  END IF;
  PERFORM lifecycle._column_type(orders, customer_column);
  PERFORM lifecycle._column_type(orders, time_column);
  amount_type := lifecycle._column_type(orders, amount_column);
  IF amount_type NOT IN ('numeric'::regtype, 'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype,
                         'real'::regtype, 'double precision'::regtype) THEN
    RAISE EXCEPTION 'amount column "%" has type %', amount_column, amount_type
      USING ERRCODE = 'datatype_mismatch', HINT = 'Use a numeric, integer or floating-point column.';
  END IF;
  IF (customers IS NULL) <> (customers_key IS NULL) THEN
    RAISE EXCEPTION 'customers and customers_key go together' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Name the customers relation and its key column, or neither.';
  END IF;
  IF customers IS NOT NULL THEN
    IF NOT has_table_privilege(customers, 'SELECT') THEN
      RAISE EXCEPTION 'permission denied for %', customers USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM lifecycle._column_type(customers, customers_key);
  END IF;
  IF score_method IS NULL OR score_method NOT IN ('quantile', 'rfm_r', 'ntile') THEN
    RAISE EXCEPTION 'unknown score method "%"', score_method USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Use quantile, rfm_r or ntile.';
  END IF;
  IF frequency_basis IS NULL OR frequency_basis NOT IN ('orders', 'purchase_days') THEN
    RAISE EXCEPTION 'unknown frequency basis "%"', frequency_basis USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Use orders or purchase_days.';
  END IF;
  -- these raise their own clear errors
  PERFORM now() AT TIME ZONE time_zone;
  PERFORM lifecycle.stage(NULL, current_date, active_days, dormant_days, churn_days,
                          cadence_factor, cadence_min_days);
  PERFORM lifecycle.segment(1, 1, 1, rule_set);
  PERFORM lifecycle.btyd(NULL, current_date, btyd_unit);

  v.view_name := lifecycle._qualified_view_name(view_name, orders);
  IF to_regclass(v.view_name) IS NOT NULL THEN
    RAISE EXCEPTION 'relation % already exists', v.view_name USING ERRCODE = 'duplicate_table';
  END IF;
  INSERT INTO lifecycle.segment_views AS s
         (view_name, orders, customer_column, time_column, amount_column, customers, customers_key,
          time_zone, as_of, active_days, dormant_days, churn_days, cadence_factor, cadence_min_days,
          score_method, frequency_basis, rule_set, btyd_unit, models, prediction_days, clv_periods,
          clv_period_days, clv_discount_rate)
  VALUES (v.view_name, orders, customer_column, time_column, amount_column, customers, customers_key,
          time_zone, as_of, active_days, dormant_days, churn_days, cadence_factor, cadence_min_days,
          score_method, frequency_basis, rule_set, btyd_unit, models, prediction_days, clv_periods,
          clv_period_days, clv_discount_rate)
  RETURNING s.* INTO v;

  INSERT INTO lifecycle.refresh_runs (view_name) VALUES (v.view_name) RETURNING run_id INTO run;
  EXECUTE format('CREATE MATERIALIZED VIEW %s AS %s', v.view_name, lifecycle._segment_view_query(v));
  EXECUTE format('CREATE UNIQUE INDEX ON %s (%I)', v.view_name, v.customer_column);
  PERFORM lifecycle._comment_view(v);
  PERFORM lifecycle._create_companions(v);
  PERFORM lifecycle._record_refresh(run);
  RETURN v.view_name::regclass;
END $$;
COMMENT ON FUNCTION lifecycle.create_segment_view(text, regclass, name, name, name, regclass, name, text, date,
  integer, integer, integer, double precision, integer, text, text, text, text, boolean, integer, integer, integer,
  double precision) IS
  'Create a materialized segment view (one row per customer) over an orders relation, with its settings, unique index and BI companion views';

-- The settings key of a segment view, or an error if it is not one.
CREATE FUNCTION lifecycle._segment_view_name(view regclass) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  name text;
BEGIN
  SELECT v.view_name INTO name FROM lifecycle.segment_views v WHERE to_regclass(v.view_name) = view;
  IF name IS NULL THEN
    RAISE EXCEPTION '% is not a segment view', view USING ERRCODE = 'wrong_object_type',
      HINT = 'lifecycle.segment_views lists the segment views.';
  END IF;
  RETURN name;
END $$;
COMMENT ON FUNCTION lifecycle._segment_view_name(regclass) IS 'Internal: settings key of a segment view';

-- Start a refresh run: mark runs of this view whose backend is gone as
-- interrupted, and record a new running one.
CREATE FUNCTION lifecycle._refresh_begin(view regclass) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  name text := lifecycle._segment_view_name(view);
  run bigint;
BEGIN
  UPDATE lifecycle.refresh_runs r
     SET outcome = 'interrupted', finished_at = clock_timestamp(),
         message = 'the backend running this refresh ended before it finished'
   WHERE r.view_name = name AND r.outcome = 'running'
     AND (r.backend_pid = pg_backend_pid()
          OR NOT EXISTS (SELECT FROM pg_stat_activity a WHERE a.pid = r.backend_pid));
  INSERT INTO lifecycle.refresh_runs (view_name) VALUES (name) RETURNING run_id INTO run;
  RETURN run;
END $$;
COMMENT ON FUNCTION lifecycle._refresh_begin(regclass) IS 'Internal: record the start of a refresh';

-- Refresh a segment view concurrently and record the outcome.  Returns NULL,
-- or the error (sqlstate, message, hint) after recording it.
CREATE FUNCTION lifecycle._refresh_run(run bigint) RETURNS text[]
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v lifecycle.segment_views;
  state text;
  msg text;
  hint text;
BEGIN
  SELECT s.* INTO STRICT v FROM lifecycle.segment_views s JOIN lifecycle.refresh_runs r USING (view_name)
   WHERE r.run_id = run;
  BEGIN
    PERFORM set_config('lock_timeout', (extract(epoch FROM v.lock_timeout) * 1000)::bigint::text, true);
    IF (SELECT c.relispopulated FROM pg_class c WHERE c.oid = v.view_name::regclass) THEN
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', v.view_name);
    ELSE
      EXECUTE format('REFRESH MATERIALIZED VIEW %s', v.view_name);
    END IF;
    PERFORM lifecycle._record_refresh(run);
    RETURN NULL;
  EXCEPTION WHEN OTHERS OR query_canceled THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  END;
  UPDATE lifecycle.refresh_runs
     SET outcome = CASE state WHEN '57014' THEN 'cancelled' ELSE 'failed' END,
         message = msg, finished_at = clock_timestamp(), duration = clock_timestamp() - started_at
   WHERE run_id = run;
  RETURN ARRAY[state, msg, coalesce(nullif(hint, ''), 'lifecycle.refresh_runs keeps the outcome of every refresh.')];
END $$;
COMMENT ON FUNCTION lifecycle._refresh_run(bigint) IS 'Internal: refresh a segment view and record the outcome';

-- The refresh for schedulers: CALL it at top level (pg_cron does), since it
-- commits the start of the run before refreshing, so that a refresh whose
-- backend is killed still leaves a trace.
CREATE PROCEDURE lifecycle.refresh_segment_view(view regclass)
LANGUAGE plpgsql AS $$
DECLARE
  run bigint;
  failure text[];
BEGIN
  run := lifecycle._refresh_begin(view);
  COMMIT;
  failure := lifecycle._refresh_run(run);
  COMMIT;
  IF failure IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = failure[1], MESSAGE = failure[2], HINT = failure[3];
  END IF;
END $$;
COMMENT ON PROCEDURE lifecycle.refresh_segment_view(regclass) IS
  'Refresh a segment view concurrently (BI readers are never blocked), record the run and its stage/segment history';

-- Drop a segment view with its companion views, settings and history.
CREATE FUNCTION lifecycle.drop_segment_view(view regclass) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  name text := lifecycle._segment_view_name(view);
  companion text;
BEGIN
  FOREACH companion IN ARRAY lifecycle._companion_names(name) LOOP
    EXECUTE format('DROP VIEW IF EXISTS %s', companion);
  END LOOP;
  EXECUTE format('DROP MATERIALIZED VIEW %s', name);
  DELETE FROM lifecycle.segment_views v WHERE v.view_name = name;
END $$;
COMMENT ON FUNCTION lifecycle.drop_segment_view(regclass) IS
  'Drop a segment view, its companion views, its settings and its history';

GRANT SELECT ON lifecycle.segment_views, lifecycle.refresh_runs, lifecycle.stage_history,
  lifecycle.segment_history, lifecycle.transition_history TO PUBLIC;
