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
  score_method     text NOT NULL DEFAULT 'bands',
  frequency_basis  text NOT NULL DEFAULT 'orders',
  rule_set         text NOT NULL DEFAULT 'default',
  btyd_unit        text NOT NULL DEFAULT 'day',
  models           boolean NOT NULL DEFAULT false,
  prediction_days  integer NOT NULL DEFAULT 90,
  clv_periods      integer NOT NULL DEFAULT 4,
  clv_period_days  integer NOT NULL DEFAULT 91,
  clv_discount_rate double precision NOT NULL DEFAULT 0.025,
  lock_timeout     interval NOT NULL DEFAULT '10 minutes',
  keep_transitions boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  owner            regrole NOT NULL DEFAULT pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole,
  incremental      boolean NOT NULL DEFAULT false,
  CONSTRAINT segment_views_customers_key CHECK ((customers IS NULL) = (customers_key IS NULL))
);
SELECT pg_catalog.pg_extension_config_dump('lifecycle.segment_views', '');
COMMENT ON TABLE lifecycle.segment_views IS
  'Settings of each segment view; changes take effect at the next refresh. Every role sees and changes only the rows of its own views';
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
COMMENT ON COLUMN lifecycle.segment_views.score_method IS 'RFM scoring: bands (recency by the stage thresholds, so that segments agree with stages; F and M by quantile), quantile, rfm_r or ntile';
COMMENT ON COLUMN lifecycle.segment_views.frequency_basis IS 'F counts orders or purchase_days';
COMMENT ON COLUMN lifecycle.segment_views.rule_set IS 'Segment rule set (lifecycle.segment_rules)';
COMMENT ON COLUMN lifecycle.segment_views.btyd_unit IS 'Time unit of the BTYD columns: day or week';
COMMENT ON COLUMN lifecycle.segment_views.models IS 'Fit BG/NBD and Gamma-Gamma over the view''s customers at each refresh and fill the prediction columns';
COMMENT ON COLUMN lifecycle.segment_views.prediction_days IS 'Horizon of expected_purchases, in days';
COMMENT ON COLUMN lifecycle.segment_views.clv_periods IS 'CLV: number of periods summed';
COMMENT ON COLUMN lifecycle.segment_views.clv_period_days IS 'CLV: length of one period, in days';
COMMENT ON COLUMN lifecycle.segment_views.clv_discount_rate IS 'CLV: discount rate per period (0.025 = 2.5 % a period)';
COMMENT ON COLUMN lifecycle.segment_views.lock_timeout IS 'How long a refresh waits for a lock before it fails';
COMMENT ON COLUMN lifecycle.segment_views.keep_transitions IS 'Count stage transitions at each refresh (from the view''s contents before and after it)';
COMMENT ON COLUMN lifecycle.segment_views.incremental IS 'Triggers on the orders log which customers'' orders change (lifecycle.order_changes), so that a refresh reads only their orders; set by create_segment_view';
COMMENT ON COLUMN lifecycle.segment_views.created_at IS 'When the view was created';
COMMENT ON COLUMN lifecycle.segment_views.owner IS 'The role that owns the view: it (and its members) alone see, change, refresh and drop it';

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
  backend_pid  integer NOT NULL DEFAULT pg_catalog.pg_backend_pid(),
  rows_read    bigint,
  read_time    interval,
  score_time   interval,
  fit_time     interval,
  write_time   interval,
  refresh_time interval,
  history_time interval,
  btyd_unit_days integer,
  time_zone    text,
  rows_written bigint,
  full_read    boolean
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
COMMENT ON COLUMN lifecycle.refresh_runs.rows_read IS 'Order rows the refresh read';
COMMENT ON COLUMN lifecycle.refresh_runs.read_time IS 'Phase time: reading the order rows into per-customer summaries';
COMMENT ON COLUMN lifecycle.refresh_runs.score_time IS 'Phase time: computing the score breaks';
COMMENT ON COLUMN lifecycle.refresh_runs.fit_time IS 'Phase time: fitting the purchase models (models on)';
COMMENT ON COLUMN lifecycle.refresh_runs.write_time IS 'Phase time: computing and writing one row per customer';
COMMENT ON COLUMN lifecycle.refresh_runs.refresh_time IS 'Phase time: the whole refresh of the view''s rows (the phases above, then writing the rows that changed)';
COMMENT ON COLUMN lifecycle.refresh_runs.history_time IS 'Phase time: recording the counts, history and transitions';
COMMENT ON COLUMN lifecycle.refresh_runs.btyd_unit_days IS 'Days in the BTYD unit the refresh computed with (1 or 7): the view reads it with as_of';
COMMENT ON COLUMN lifecycle.refresh_runs.time_zone IS 'The zone whose days the refresh counted: the companion views read it';
COMMENT ON COLUMN lifecycle.refresh_runs.rows_written IS 'Rows of the view the refresh wrote: customers new, changed or gone';
COMMENT ON COLUMN lifecycle.refresh_runs.full_read IS 'Whether the refresh read every order (else only the orders of the customers whose orders changed)';

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

-- Which customers' orders changed since a view's last refresh, logged by
-- triggers on its orders (lifecycle._log_order_changes): the next refresh
-- reads only their orders and keeps the others' summaries.  customer NULL:
-- orders without a customer changed; full_read: the next refresh reads
-- every order (a TRUNCATE, or inserted rows that could not be logged in
-- <view>_log: lifecycle._log_order_inserts).  Anyone
-- who writes the orders writes here (the triggers run as them); an entry
-- only makes a refresh read a customer's orders again, so a false one costs
-- time, never a wrong row.  Only a view's owner reads and removes them.
CREATE TABLE lifecycle.order_changes (
  view_name text NOT NULL,
  customer  text,
  full_read boolean NOT NULL DEFAULT false,
  logged_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
CREATE INDEX ON lifecycle.order_changes (view_name);
SELECT pg_catalog.pg_extension_config_dump('lifecycle.order_changes', '');
COMMENT ON TABLE lifecycle.order_changes IS
  'Customers whose orders changed since their segment view''s last refresh (logged by triggers on the orders; read and removed by the refresh)';
COMMENT ON COLUMN lifecycle.order_changes.view_name IS 'The segment view';
COMMENT ON COLUMN lifecycle.order_changes.customer IS 'The customer key, as text; NULL: order rows without a customer changed';
COMMENT ON COLUMN lifecycle.order_changes.full_read IS 'The next refresh reads every order: the orders were truncated, or inserted rows could not be logged';
COMMENT ON COLUMN lifecycle.order_changes.logged_at IS 'When the change was logged';

-- The columns of lifecycle._customer_facts (src/facts.c, where they are
-- defined once): its column definition list and the view's column comments.
CREATE FUNCTION lifecycle._facts_columns() RETURNS TABLE (name text, type text, comment text)
  LANGUAGE c IMMUTABLE PARALLEL SAFE ROWS 27
  AS 'MODULE_PATHNAME', 'facts_columns';
COMMENT ON FUNCTION lifecycle._facts_columns() IS
  'Internal: the columns of lifecycle._customer_facts in order, with their types (NULL: the customer key''s) and comments';

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

-- Every customer's summary facts, derived values and stage in one pass over
-- the orders (src/facts.c): what a segment view's query is built on.  This
-- form, with the settings as 21 arguments, is what views made under 1.0
-- call; views made since pass their settings row (below).
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

-- The columns of a segment view's rows, <view>_data (src/changes.c, where
-- they are defined once): the table's columns, the refresh's column
-- definition list and the view's column comments.
CREATE FUNCTION lifecycle._row_columns() RETURNS TABLE (name text, type text, comment text)
  LANGUAGE c IMMUTABLE PARALLEL SAFE ROWS 29
  AS 'MODULE_PATHNAME', 'row_columns_sql';
COMMENT ON FUNCTION lifecycle._row_columns() IS
  'Internal: the columns of a segment view''s rows (<view>_data) in order, with their types (NULL: the customer key''s) and comments';

-- The rows of a segment view that its refresh writes (src/changes.c):
-- those of customers new, changed or (with a NULL stage) gone since its
-- rows were last written.  changed NULL: every order is read; else only
-- those of the customers listed (lifecycle.order_changes), the others'
-- summaries are their rows' summary_state.
CREATE FUNCTION lifecycle._segment_view_changes(settings lifecycle.segment_views, as_of date, changed text[],
                                                guest_orders bigint)
  RETURNS SETOF record LANGUAGE c VOLATILE PARALLEL UNSAFE
  AS 'MODULE_PATHNAME', 'segment_view_changes';
COMMENT ON FUNCTION lifecycle._segment_view_changes(lifecycle.segment_views, date, text[], bigint) IS
  'Internal: the rows of a segment view that differ from its rows now (new, changed, or gone with a NULL stage), computed with its settings row';

-- What the last computation of a view's facts in this backend made
-- (src/facts.c): its fits, so that a refresh records the fits it predicted
-- with instead of fitting twice, and the rows it read and its phases' time.
CREATE FUNCTION lifecycle._last_facts(view_name text)
  RETURNS TABLE (purchases lifecycle.bgnbd, spend lifecycle.gammagamma, customers bigint, guest_orders bigint,
                 rows_read bigint, btyd_unit_days integer, read_time interval, score_time interval,
                 fit_time interval, write_time interval, rows_written bigint, customers_gone bigint,
                 full_read boolean)
  LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE ROWS 1
  AS 'MODULE_PATHNAME', 'last_facts_sql';
COMMENT ON FUNCTION lifecycle._last_facts(text) IS
  'Internal: the fits, customers, guest order rows, rows read, phase times, rows written, customers gone and whether every order was read, of the last computation of a segment view''s facts in this backend';

CREATE FUNCTION lifecycle._last_counts(view_name text)
  RETURNS TABLE (stage text, segment text, customers bigint, revenue numeric)
  LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE ROWS 20
  AS 'MODULE_PATHNAME', 'last_counts_sql';
COMMENT ON FUNCTION lifecycle._last_counts(text) IS
  'Internal: customers and net revenue by stage (segment NULL) and by segment (stage NULL) of the last computation of a segment view''s rows in this backend';

CREATE FUNCTION lifecycle._last_transitions(view_name text)
  RETURNS TABLE (from_stage text, to_stage text, customers bigint)
  LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE ROWS 20
  AS 'MODULE_PATHNAME', 'last_transitions_sql';
COMMENT ON FUNCTION lifecycle._last_transitions(text) IS
  'Internal: customers by stage before and after the last computation of a segment view''s facts in this backend (NULL: new to or gone from the view)';

-- The one validator of a settings row (src/settings.c), run on every INSERT
-- and UPDATE of lifecycle.segment_views and again at every refresh.
CREATE FUNCTION lifecycle._check_segment_view(settings lifecycle.segment_views) RETURNS void
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'segment_view_check';
COMMENT ON FUNCTION lifecycle._check_segment_view(lifecycle.segment_views) IS
  'Internal: error unless a segment view''s settings are valid (columns, types, zone, thresholds, methods, bounds)';

CREATE FUNCTION lifecycle._segment_views_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM lifecycle._check_segment_view(NEW);
  -- not on INSERT: pg_restore may load the settings before the rule sets
  -- (create_segment_view checks it; a refresh fails clearly without it)
  IF TG_OP = 'UPDATE' THEN
    PERFORM lifecycle.check_rule_set(NEW.rule_set);
  END IF;
  -- a row keeps what follows from its customer's summary under the stage
  -- thresholds and the BTYD unit (its stage_since, its BTYD columns): after
  -- a change to them, the next refresh computes every row from the orders
  IF TG_OP = 'UPDATE' AND (NEW.active_days, NEW.dormant_days, NEW.churn_days, NEW.cadence_factor,
                           NEW.cadence_min_days, NEW.btyd_unit)
                          IS DISTINCT FROM (OLD.active_days, OLD.dormant_days, OLD.churn_days,
                                            OLD.cadence_factor, OLD.cadence_min_days, OLD.btyd_unit) THEN
    INSERT INTO lifecycle.order_changes (view_name, full_read) VALUES (NEW.view_name, true);
  END IF;
  RETURN NEW;
END $$;
COMMENT ON FUNCTION lifecycle._segment_views_check() IS
  'Trigger: check a segment view''s settings when they are written';
CREATE TRIGGER segment_views_check BEFORE INSERT OR UPDATE ON lifecycle.segment_views
  FOR EACH ROW EXECUTE FUNCTION lifecycle._segment_views_check();

-- Ownership (pg_cron's cron.job is the model): a role sees, changes and
-- drops the settings of its own views (and of roles it is a member of).
-- Whoever may read a view may read its successful runs and their counts;
-- failed runs, whose messages may quote data, only its owner.
ALTER TABLE lifecycle.segment_views ENABLE ROW LEVEL SECURITY;
CREATE POLICY segment_views_owner ON lifecycle.segment_views
  USING (pg_catalog.pg_has_role(owner, 'USAGE')) WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE'));

CREATE FUNCTION lifecycle._owns_view(view_name text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT EXISTS (SELECT FROM lifecycle.segment_views v WHERE v.view_name OPERATOR(pg_catalog.=) _owns_view.view_name);
END;
COMMENT ON FUNCTION lifecycle._owns_view(text) IS
  'Internal: whether the current role may see and change a segment view''s settings and history (row security)';

CREATE FUNCTION lifecycle._reads_view(view_name text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  -- by catalog lookup: to_regclass would fail without USAGE on the schema
  SELECT EXISTS (SELECT FROM pg_catalog.pg_class c
                   JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace,
                        pg_catalog.parse_ident(_reads_view.view_name) p
                  WHERE n.nspname OPERATOR(pg_catalog.=) p[1] AND c.relname OPERATOR(pg_catalog.=) p[2]
                    AND pg_catalog.has_schema_privilege(n.oid, 'USAGE')
                    AND pg_catalog.has_table_privilege(c.oid, 'SELECT'));
END;
COMMENT ON FUNCTION lifecycle._reads_view(text) IS
  'Internal: whether the current role may read a segment view, and so its successful runs and their counts (row security)';

ALTER TABLE lifecycle.refresh_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY refresh_runs_owner ON lifecycle.refresh_runs
  USING (lifecycle._owns_view(view_name)) WITH CHECK (lifecycle._owns_view(view_name));
CREATE POLICY refresh_runs_reader ON lifecycle.refresh_runs FOR SELECT
  USING (outcome OPERATOR(pg_catalog.=) 'succeeded' AND lifecycle._reads_view(view_name));

CREATE FUNCTION lifecycle._owns_run(run bigint) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT EXISTS (SELECT FROM lifecycle.refresh_runs r
                  WHERE r.run_id OPERATOR(pg_catalog.=) _owns_run.run AND lifecycle._owns_view(r.view_name));
END;
COMMENT ON FUNCTION lifecycle._owns_run(bigint) IS
  'Internal: whether the current role owns the view of a refresh run (row security)';

CREATE FUNCTION lifecycle._reads_run(run bigint) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT EXISTS (SELECT FROM lifecycle.refresh_runs r WHERE r.run_id OPERATOR(pg_catalog.=) _reads_run.run);
END;
COMMENT ON FUNCTION lifecycle._reads_run(bigint) IS
  'Internal: whether the current role may read a refresh run (row security)';

ALTER TABLE lifecycle.stage_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY stage_history_owner ON lifecycle.stage_history
  USING (lifecycle._owns_run(run_id)) WITH CHECK (lifecycle._owns_run(run_id));
CREATE POLICY stage_history_reader ON lifecycle.stage_history FOR SELECT USING (lifecycle._reads_run(run_id));

ALTER TABLE lifecycle.segment_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY segment_history_owner ON lifecycle.segment_history
  USING (lifecycle._owns_run(run_id)) WITH CHECK (lifecycle._owns_run(run_id));
CREATE POLICY segment_history_reader ON lifecycle.segment_history FOR SELECT USING (lifecycle._reads_run(run_id));

ALTER TABLE lifecycle.transition_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY transition_history_owner ON lifecycle.transition_history
  USING (lifecycle._owns_run(run_id)) WITH CHECK (lifecycle._owns_run(run_id));
CREATE POLICY transition_history_reader ON lifecycle.transition_history FOR SELECT USING (lifecycle._reads_run(run_id));

ALTER TABLE lifecycle.model_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_history_owner ON lifecycle.model_history
  USING (lifecycle._owns_run(run_id)) WITH CHECK (lifecycle._owns_run(run_id));
CREATE POLICY model_history_reader ON lifecycle.model_history FOR SELECT USING (lifecycle._reads_run(run_id));

ALTER TABLE lifecycle.order_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY order_changes_owner ON lifecycle.order_changes USING (lifecycle._owns_view(view_name));
CREATE POLICY order_changes_writer ON lifecycle.order_changes FOR INSERT WITH CHECK (true);

GRANT SELECT, INSERT, DELETE ON lifecycle.segment_views TO PUBLIC;
GRANT UPDATE (time_zone, as_of, active_days, dormant_days, churn_days, cadence_factor, cadence_min_days,
              score_method, frequency_basis, rule_set, btyd_unit, models, prediction_days, clv_periods,
              clv_period_days, clv_discount_rate, lock_timeout, keep_transitions)
  ON lifecycle.segment_views TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON lifecycle.refresh_runs, lifecycle.stage_history,
  lifecycle.segment_history, lifecycle.transition_history, lifecycle.model_history TO PUBLIC;
GRANT USAGE ON SEQUENCE lifecycle.refresh_run_id TO PUBLIC;
GRANT SELECT, INSERT, DELETE ON lifecycle.order_changes TO PUBLIC;

-- A table of a segment view's, beside it: <view>_data holds its rows,
-- <view>_log the order rows inserted since its last refresh.
CREATE FUNCTION lifecycle._table_name(view_name text, suffix text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
BEGIN ATOMIC
  SELECT pg_catalog.format('%I.%I', p[1], p[2] OPERATOR(pg_catalog.||) suffix)
    FROM (SELECT pg_catalog.parse_ident(view_name) AS p) q;
END;
COMMENT ON FUNCTION lifecycle._table_name(text, text) IS
  'Internal: the name of a table of a segment view''s (<view>_data: its rows; <view>_log: the orders inserted since its last refresh)';

-- What a refresh writes: <view>_data, or the view itself for views made
-- under 1.0 (a materialized view of every column).
CREATE FUNCTION lifecycle._storage(view_name text) RETURNS regclass
LANGUAGE sql STABLE PARALLEL SAFE STRICT
BEGIN ATOMIC
  SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'm' THEN c.oid::pg_catalog.regclass
              ELSE pg_catalog.to_regclass(lifecycle._table_name(_storage.view_name, '_data')) END
    FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(_storage.view_name);
END;
COMMENT ON FUNCTION lifecycle._storage(text) IS
  'Internal: the relation a segment view''s refresh writes (its rows, or the materialized view made under 1.0)';

-- The table of a segment view's rows: the columns of lifecycle._row_columns
-- (the key named as in the orders), and room in its pages for the rows a
-- daily refresh rewrites (HOT updates: the key, the only indexed column,
-- never changes).  Its primary key comes after the first rows
-- (lifecycle._create_segment_view): one sorted build, not a million inserts.
CREATE FUNCTION lifecycle._create_rows_table(settings lifecycle.segment_views) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  key_type regtype := lifecycle._column_type(settings.orders, settings.customer_column);
  data text := lifecycle._table_name(settings.view_name, '_data');
  columns text;
BEGIN
  SELECT string_agg(format('%I %s', CASE WHEN c.type IS NULL THEN settings.customer_column ELSE c.name END,
                           coalesce(c.type, key_type::text)), ', ')
    INTO columns FROM lifecycle._row_columns() c;
  EXECUTE format('CREATE TABLE %s (%s) WITH (fillfactor = 90)', data, columns);
  EXECUTE format('COMMENT ON TABLE %s IS %L', data,
    format('The rows of the segment view %s without its as-of columns, written by its refresh; read %s instead',
           settings.view_name, settings.view_name));
END $$;
COMMENT ON FUNCTION lifecycle._create_rows_table(lifecycle.segment_views) IS
  'Internal: create the table of a segment view''s rows (<view>_data)';

-- The statement that writes a segment view's rows that changed
-- (lifecycle._segment_view_changes with $1 as_of, $2 the changed customers,
-- $3 the guest orders): by key when the table has rows (upsert), else a
-- plain insert; the rows of customers gone get a NULL stage, for
-- lifecycle._write_rows to delete (rarely: a scan of the rows).
CREATE FUNCTION lifecycle._segment_view_write_sql(settings lifecycle.segment_views, upsert boolean) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  key_type regtype := lifecycle._column_type(settings.orders, settings.customer_column);
  columns text;
  updates text;
BEGIN
  SELECT string_agg(format('%I %s', c.name, coalesce(c.type, key_type::text)), ', '),
         string_agg(format('%1$I = excluded.%1$I', c.name), ', ') FILTER (WHERE c.type IS NOT NULL)
    INTO columns, updates FROM lifecycle._row_columns() c;
  -- the settings row as the refreshing role may read it: NULL (an error in
  -- the function) if it may not
  RETURN format($q$
WITH settings AS MATERIALIZED (
  SELECT v AS row FROM (SELECT) one LEFT JOIN lifecycle.segment_views v ON v.view_name = %1$L
)
INSERT INTO %2$s AS d
SELECT f.* FROM settings s, lifecycle._segment_view_changes(s.row, $1, $2, $3) AS f(%3$s)$q$,
    settings.view_name, lifecycle._table_name(settings.view_name, '_data'), columns)
    || CASE WHEN upsert THEN format(' ON CONFLICT (%I) DO UPDATE SET %s', settings.customer_column, updates) ELSE '' END;
END $$;
COMMENT ON FUNCTION lifecycle._segment_view_write_sql(lifecycle.segment_views, boolean) IS
  'Internal: the statement that writes the rows of a segment view that changed';

-- The names of the triggers that log changes to a view's orders.
CREATE FUNCTION lifecycle._order_trigger_names(view_name text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
BEGIN ATOMIC
  SELECT ARRAY(SELECT pg_catalog.format('lifecycle_%s_%s', pg_catalog.left(pg_catalog.md5(view_name), 12), e)
                 FROM unnest(ARRAY['insert', 'update', 'delete', 'truncate']) e);
END;
COMMENT ON FUNCTION lifecycle._order_trigger_names(text) IS
  'Internal: the names of the triggers that log changes to a segment view''s orders (insert, update, delete, truncate)';

-- Log which customers' orders a statement changed (the trigger's arguments:
-- view name, then the orders' customer, time and amount columns).  An
-- update logs only the customers of rows whose customer, time or amount
-- changed.
CREATE FUNCTION lifecycle._log_order_changes() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  columns text := format('%I, %I, %I', TG_ARGV[1], TG_ARGV[2], TG_ARGV[3]);
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO lifecycle.order_changes (view_name, full_read) VALUES (TG_ARGV[0], true);
  ELSIF TG_OP = 'INSERT' THEN
    EXECUTE format('INSERT INTO lifecycle.order_changes (view_name, customer)
                    SELECT DISTINCT $1, n.%I::text FROM lifecycle_new n', TG_ARGV[1]) USING TG_ARGV[0];
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('INSERT INTO lifecycle.order_changes (view_name, customer)
                    SELECT DISTINCT $1, o.%I::text FROM lifecycle_old o', TG_ARGV[1]) USING TG_ARGV[0];
  ELSE
    EXECUTE format('INSERT INTO lifecycle.order_changes (view_name, customer)
                    SELECT DISTINCT $1, c.k::text
                      FROM ((SELECT %1$s FROM lifecycle_old EXCEPT ALL SELECT %1$s FROM lifecycle_new)
                            UNION ALL
                            (SELECT %1$s FROM lifecycle_new EXCEPT ALL SELECT %1$s FROM lifecycle_old)) c(k)',
                   columns) USING TG_ARGV[0];
  END IF;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION lifecycle._log_order_changes() IS
  'Trigger: log the customers whose orders a statement changed, for the next refresh of a segment view';

-- Log the order rows an INSERT added (their customer, time and amount)
-- into the view's <view>_log, as the owner of the orders (the trigger's
-- arguments: view name, log, the orders' customer, time and amount
-- columns); the next refresh folds them into the kept summaries.  If that
-- role may not write the log, the view is marked for a refresh that reads
-- every order instead.
CREATE FUNCTION lifecycle._log_order_inserts() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'log_order_inserts';
COMMENT ON FUNCTION lifecycle._log_order_inserts() IS
  'Trigger: log the order rows an INSERT added, for the next refresh of a segment view to fold in';

-- Create the triggers that log changes to a view's orders, and the log of
-- inserted rows (<view>_log, the caller's, written by the orders' owner),
-- if the caller owns them and they are a plain table that takes them;
-- whether it did.
-- Not a partitioned table or one with inheritance children: writes to a
-- partition or child do not fire the parent's statement triggers.  Not
-- where triggers are refused (Citus, on distributed tables).  ENABLE
-- ALWAYS: they fire on logical replication subscribers too.
CREATE FUNCTION lifecycle._create_order_triggers(view_name text, orders regclass, customer_column name,
                                                 time_column name, amount_column name) RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  names text[] := lifecycle._order_trigger_names(view_name);
  log text := lifecycle._table_name(view_name, '_log');
  args text := format('%L, %L, %L, %L', view_name, customer_column, time_column, amount_column);
  citus boolean := false;
  owner regrole;
BEGIN
  IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
    EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1)'
      INTO citus USING orders;
  END IF;
  IF citus THEN
    RAISE NOTICE 'each refresh of % reads every order', view_name
      USING DETAIL = format('%s is a Citus table, and Citus takes no triggers on its tables.', orders);
    RETURN false;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = orders AND c.relkind = 'r' AND NOT c.relhassubclass
                    AND pg_has_role(c.relowner, 'USAGE')) THEN
    RAISE NOTICE 'each refresh of % reads every order', view_name
      USING DETAIL = format('Only the owner of %s, a table without partitions or inheritance children, can log which customers'' orders change.', orders);
    RETURN false;
  END IF;
  SELECT c.relowner INTO owner FROM pg_class c WHERE c.oid = orders;
  BEGIN
    EXECUTE format('CREATE TABLE %s AS SELECT %I, %I, %I FROM %s WITH NO DATA',
                   log, customer_column, time_column, amount_column, orders);
    EXECUTE format('COMMENT ON TABLE %s IS %L', log,
      format('Order rows inserted into %s since the last refresh of the segment view %s (written by its trigger, read and emptied by the refresh)',
             orders, view_name));
    IF owner <> current_user::regrole THEN
      EXECUTE format('GRANT INSERT ON %s TO %s', log, owner);
    END IF;
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS lifecycle_new
                    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle._log_order_inserts(%L, %L, %L, %L, %L)',
                   names[1], orders, view_name, log, customer_column, time_column, amount_column);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING OLD TABLE AS lifecycle_old NEW TABLE AS lifecycle_new
                    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle._log_order_changes(%s)', names[2], orders, args);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS lifecycle_old
                    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle._log_order_changes(%s)', names[3], orders, args);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s
                    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle._log_order_changes(%s)', names[4], orders, args);
    FOR i IN 1 .. 4 LOOP
      EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', orders, names[i]);
    END LOOP;
  EXCEPTION WHEN feature_not_supported OR wrong_object_type THEN
    RAISE NOTICE 'each refresh of % reads every order', view_name
      USING DETAIL = format('%s takes no triggers that log which customers'' orders change: %s', orders, SQLERRM);
    RETURN false;
  WHEN undefined_column OR duplicate_column THEN
    -- settings that the check of the settings row rejects next, saying why
    RETURN false;
  END;
  RETURN true;
END $$;
COMMENT ON FUNCTION lifecycle._create_order_triggers(text, regclass, name, name, name) IS
  'Internal: create the triggers that log changes to a segment view''s orders, if the caller owns the table';

-- Whether all four triggers that log changes to a view's orders are there
-- and enabled, on a table that has not gained partitions or children, and
-- the log of inserted rows is there.
CREATE FUNCTION lifecycle._logs_order_changes(settings lifecycle.segment_views) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT pg_catalog.count(*) OPERATOR(pg_catalog.=) 4
         AND pg_catalog.to_regclass(lifecycle._table_name(settings.view_name, '_log')) IS NOT NULL
    FROM pg_catalog.pg_trigger t
    JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid
   WHERE t.tgrelid OPERATOR(pg_catalog.=) settings.orders
     AND c.relkind OPERATOR(pg_catalog.=) 'r' AND NOT c.relhassubclass
     AND t.tgname OPERATOR(pg_catalog.=) ANY (lifecycle._order_trigger_names(settings.view_name))
     AND t.tgfoid OPERATOR(pg_catalog.=) ANY (ARRAY['lifecycle._log_order_changes()'::pg_catalog.regprocedure,
                                                   'lifecycle._log_order_inserts()'::pg_catalog.regprocedure])
     AND t.tgenabled OPERATOR(pg_catalog.=) 'A';
END;
COMMENT ON FUNCTION lifecycle._logs_order_changes(lifecycle.segment_views) IS
  'Internal: whether the triggers that log changes to a segment view''s orders are there and enabled';

-- Drop the triggers that log changes to a view's orders, if they are there
-- (a warning if the caller may not).
CREATE FUNCTION lifecycle._drop_order_triggers(view_name text, orders oid) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  name text;
BEGIN
  FOR name IN SELECT t.tgname FROM pg_trigger t
               WHERE t.tgrelid = orders AND t.tgname = ANY (lifecycle._order_trigger_names(view_name)) LOOP
    BEGIN
      EXECUTE format('DROP TRIGGER %I ON %s', name, orders::regclass);
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE WARNING 'trigger % on % was left', name, orders::regclass
        USING DETAIL = 'Only the owner of the orders can drop it; it logs changes for a segment view that is gone.';
    END;
  END LOOP;
END $$;
COMMENT ON FUNCTION lifecycle._drop_order_triggers(text, oid) IS
  'Internal: drop the triggers that log changes to a segment view''s orders';

-- Write a segment view's rows as of its as-of day (today in its zone unless
-- fixed): only the orders of the customers logged as changed since the last
-- refresh are read, or every order when full_read is asked for, the changes are
-- not logged (or the triggers are gone), the zone changed, the as-of day
-- went back, the orders were truncated, a quarter of the customers
-- changed, the rows are not the last refresh's (someone deleted some), or
-- the score method is ntile (which ranks every customer by key).
-- Returns whether every order was read.
CREATE FUNCTION lifecycle._write_rows(settings lifecycle.segment_views, full_read boolean) RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  day date := coalesce(settings.as_of, lifecycle.local_day(now(), settings.time_zone));
  last lifecycle.refresh_runs;
  logged boolean := lifecycle._logs_order_changes(settings);
  changed text[];
  guests_changed boolean;
  marked_full boolean;
  read_all boolean;
  has_rows boolean;
  facts record;
BEGIN
  SELECT r.* INTO last FROM lifecycle.refresh_runs r
   WHERE r.view_name = settings.view_name AND r.outcome = 'succeeded' ORDER BY r.run_id DESC LIMIT 1;
  -- taken before any order is read: a change logged later is read by this
  -- refresh or stays for the next
  WITH claimed AS (DELETE FROM lifecycle.order_changes c WHERE c.view_name = settings.view_name
                   RETURNING c.customer, c.full_read)
  SELECT array_agg(DISTINCT c.customer) FILTER (WHERE c.customer IS NOT NULL),
         coalesce(bool_or(c.customer IS NULL AND NOT c.full_read), false), coalesce(bool_or(c.full_read), false)
    INTO changed, guests_changed, marked_full FROM claimed c;
  IF settings.incremental AND NOT logged THEN
    RAISE WARNING 'the changes to the orders of % are not all logged', settings.view_name
      USING DETAIL = 'The triggers that log them are missing or disabled, or the orders have gained partitions or inheritance children; this refresh reads every order.',
            HINT = 'Create the view again (lifecycle.create_segment_view) to restore the triggers.';
  END IF;
  read_all := full_read OR NOT settings.incremental OR NOT logged OR last.run_id IS NULL
              OR last.time_zone IS DISTINCT FROM settings.time_zone OR last.as_of > day OR marked_full
              OR coalesce(cardinality(changed), 0) > last.customers / 4 OR settings.score_method = 'ntile';
  -- the rows not being the last refresh's (rows deleted by hand) is found
  -- while reading them, and every order is read then
  EXECUTE format('SELECT EXISTS (SELECT FROM %s)', lifecycle._table_name(settings.view_name, '_data')) INTO has_rows;
  EXECUTE lifecycle._segment_view_write_sql(settings, has_rows)
    USING day, CASE WHEN NOT read_all THEN coalesce(changed, '{}') END,
          CASE WHEN NOT read_all AND NOT guests_changed THEN last.guest_orders END;
  SELECT f.customers_gone, f.full_read INTO facts FROM lifecycle._last_facts(settings.view_name) f;
  IF facts.customers_gone > 0 THEN
    EXECUTE format('DELETE FROM %s WHERE stage IS NULL', lifecycle._table_name(settings.view_name, '_data'));
  END IF;
  RETURN facts.full_read;
END $$;
COMMENT ON FUNCTION lifecycle._write_rows(lifecycle.segment_views, boolean) IS
  'Internal: write the rows of a segment view that changed; whether every order was read';

-- The last successful refresh of a segment view (as_of, btyd_unit_days,
-- time_zone), as SQL text for the view and its companions: whoever may read
-- the view may read it (row security), unlike the view's settings.
CREATE FUNCTION lifecycle._last_run_sql(view_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
BEGIN ATOMIC
  SELECT pg_catalog.format('(SELECT r.as_of, r.btyd_unit_days, r.time_zone FROM lifecycle.refresh_runs r
         WHERE r.view_name = %L AND r.outcome = ''succeeded''
         ORDER BY r.run_id DESC LIMIT 1)', view_name);
END;
COMMENT ON FUNCTION lifecycle._last_run_sql(text) IS
  'Internal: SQL text of the last successful refresh of a segment view (as_of, btyd_unit_days, time_zone)';

-- The segment view itself, what BI tools read: its rows (<view>_data) with
-- the as-of day of the last successful refresh and the columns that follow
-- from it.  Those move every day for every customer; keeping them out of
-- the rows lets a daily refresh write only the customers whose stage,
-- scores or orders changed.  The orders and customers relations are named
-- as constants, so that the view depends on them: dropping them takes
-- CASCADE, and takes the view.
CREATE FUNCTION lifecycle._segment_view_select(settings lifecycle.segment_views) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT pg_catalog.format($q$
SELECT d.%2$I, a.as_of, d.stage, d.stage_since, a.as_of - d.stage_since AS days_in_stage,
       pg_catalog.format(d.stage_reason, a.as_of - d.last_purchase)::varchar AS stage_reason,
       d.segment, d.recommended_action, d.r_score, d.f_score, d.m_score,
       d.first_purchase, d.last_purchase, d.previous_purchase, d.orders, d.purchase_days,
       d.monetary, d.gross, d.refunds, d.refunded,
       a.as_of - d.last_purchase AS days_since_last_order,
       a.as_of - d.first_purchase AS tenure_days,
       d.mean_interval_days::numeric(38,2) AS mean_interval_days, d.aov::numeric(38,2) AS aov,
       d.btyd_frequency, d.btyd_recency,
       (a.as_of - d.first_purchase)::double precision / a.btyd_unit_days AS btyd_t,
       d.btyd_monetary_value, d.p_alive,
       (CASE WHEN d.p_alive >= 0.8 THEN 'low' WHEN d.p_alive >= 0.5 THEN 'medium'
             WHEN d.p_alive IS NOT NULL THEN 'high' END)::varchar AS churn_risk,
       d.expected_purchases, d.expected_next_order, d.expected_spend, d.clv
  FROM %3$s d, %1$s a
 WHERE pg_catalog.num_nulls(%4$L::pg_catalog.regclass, %5$L::pg_catalog.regclass) < 3$q$,
    lifecycle._last_run_sql(settings.view_name), settings.customer_column, lifecycle._table_name(settings.view_name, '_data'),
    settings.orders::text, settings.customers::text);
END;
COMMENT ON FUNCTION lifecycle._segment_view_select(lifecycle.segment_views) IS
  'Internal: the query of a segment view over its rows and the as-of day of its last successful refresh';

-- A schema-qualified, quoted name for a new view: unqualified names go to
-- creation_schema (the caller's current schema, as PostgreSQL's CREATE
-- does).  The companion views append up to 18 characters to the name, so it
-- may have at most 45 bytes.
CREATE FUNCTION lifecycle._qualified_view_name(view_name text, creation_schema name) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  parts text[] := parse_ident(view_name);
BEGIN
  IF cardinality(parts) = 1 THEN
    IF creation_schema IS NULL THEN
      RAISE EXCEPTION 'no schema has been selected to create in' USING ERRCODE = 'invalid_schema_name',
        HINT = 'Qualify the view name with a schema, or set search_path to one that exists.';
    END IF;
    parts := ARRAY[creation_schema, parts[1]];
  ELSIF cardinality(parts) <> 2 THEN
    RAISE EXCEPTION 'invalid view name "%"', view_name
      USING ERRCODE = 'invalid_name', HINT = 'Use name or schema.name.';
  END IF;
  IF octet_length(parts[2]) > 45 THEN
    RAISE EXCEPTION 'segment view name "%" is too long', parts[2] USING ERRCODE = 'name_too_long',
      DETAIL = 'Its companion views append up to 18 characters (_retention_monthly) to it, and names have at most 63 bytes.',
      HINT = 'Use a name of at most 45 bytes.';
  END IF;
  RETURN format('%I.%I', parts[1], parts[2]);
END $$;
COMMENT ON FUNCTION lifecycle._qualified_view_name(text, name) IS
  'Internal: the quoted schema.name of a new segment view';

-- The BI companion views of a segment view, named <view>_stage_summary,
-- <view>_segment_summary, <view>_retention_monthly and <view>_transitions.
CREATE FUNCTION lifecycle._companion_names(view_name text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
BEGIN ATOMIC
  SELECT ARRAY(SELECT pg_catalog.format('%I.%I', p[1], p[2] OPERATOR(pg_catalog.||) suffix)
                 FROM (SELECT pg_catalog.parse_ident(view_name) AS p) q,
                      unnest(ARRAY['_stage_summary', '_segment_summary', '_retention_monthly', '_transitions',
                                   '_buyers_monthly', '_cohorts']) suffix);
END;
COMMENT ON FUNCTION lifecycle._companion_names(text) IS
  'Internal: the names of a segment view''s companion views, in creation order';

-- COMMENT ON a view's columns: names[i] gets comments[i].
CREATE FUNCTION lifecycle._comment_columns(relation text, names text[], comments text[]) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  FOR i IN 1 .. cardinality(names) LOOP
    EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', relation, names[i], comments[i]);
  END LOOP;
END $$;
COMMENT ON FUNCTION lifecycle._comment_columns(text, text[], text[]) IS
  'Internal: comment the columns of a view, for BI tools';

-- Create the companion views of a segment view: plain column types, a
-- comment on every column, and an order to read them in.
CREATE FUNCTION lifecycle._create_companions(settings lifecycle.segment_views) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
-- Citus would copy the companions that read only its tables and the
-- extension's to the workers, where they read empty history: they stay on
-- the node of the view (a placeholder setting where Citus is not loaded).
SET citus.enable_ddl_propagation = off AS $$
DECLARE
  names text[] := lifecycle._companion_names(settings.view_name);
  time_type regtype := lifecycle._column_type(settings.orders, settings.time_column);
  month_expr text;
  agg_call text;
BEGIN
  -- in lifecycle order (prospect first, churned last)
  EXECUTE format($v$
    CREATE VIEW %1$s AS
    SELECT v.stage, count(*) AS customers,
           lifecycle._percent(count(*), sum(count(*)) OVER ())::numeric(5,2) AS share_pct,
           sum(v.orders)::bigint AS orders, sum(v.monetary) AS revenue
      FROM %2$s v GROUP BY v.stage ORDER BY v.stage::lifecycle.stage$v$, names[1], settings.view_name);
  EXECUTE format('COMMENT ON VIEW %s IS %L', names[1], 'Customers, share, orders and net revenue per lifecycle stage, in lifecycle order');
  PERFORM lifecycle._comment_columns(names[1], ARRAY['stage', 'customers', 'share_pct', 'orders', 'revenue'],
    ARRAY['Lifecycle stage', 'Customers in the stage', 'Their share of all customers, in percent (2 decimals)',
          'Their purchase rows', 'Their net revenue (purchases minus refunds)']);

  -- largest segment first
  EXECUTE format($v$
    CREATE VIEW %1$s AS
    SELECT v.segment, count(*) AS customers,
           lifecycle._percent(count(*), sum(count(*)) OVER ())::numeric(5,2) AS share_pct,
           sum(v.orders)::bigint AS orders, sum(v.monetary) AS revenue,
           round(sum(v.gross) / nullif(sum(v.orders), 0), 2)::numeric(38,2) AS aov
      FROM %2$s v WHERE v.segment IS NOT NULL GROUP BY v.segment
     ORDER BY count(*) DESC, v.segment$v$, names[2], settings.view_name);
  EXECUTE format('COMMENT ON VIEW %s IS %L', names[2],
                 'Customers, share, orders, net revenue and average order value per RFM segment (buyers only), largest first');
  PERFORM lifecycle._comment_columns(names[2], ARRAY['segment', 'customers', 'share_pct', 'orders', 'revenue', 'aov'],
    ARRAY['RFM segment (Others: no rule matched)', 'Customers in the segment',
          'Their share of all buyers, in percent (2 decimals)', 'Their purchase rows',
          'Their net revenue (purchases minus refunds)', 'Average order value: purchase value / orders (2 decimals)']);

  CASE time_type
    WHEN 'timestamp with time zone'::regtype THEN
      month_expr := 'date_trunc(''month'', lifecycle.local_day(o.%2$I, s.time_zone))::date';
      agg_call := 'lifecycle.rfm_agg(o.%2$I, o.%4$I::numeric, s.time_zone)';
    ELSE
      month_expr := 'date_trunc(''month'', o.%2$I)::date';
      agg_call := 'lifecycle.rfm_agg(o.%2$I, o.%4$I::numeric)';
  END CASE;
  EXECUTE format($v$
    CREATE VIEW %3$s AS
    WITH per_customer AS (
      SELECT $v$ || month_expr || $v$ AS month, $v$ || agg_call || $v$ AS summary
        FROM %5$s o, $v$ || lifecycle._last_run_sql(settings.view_name) || $v$ s
       WHERE o.%1$I IS NOT NULL AND o.%2$I IS NOT NULL
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
  -- the metrics' own column comments (type lifecycle.retention)
  PERFORM lifecycle._comment_columns(names[3], ARRAY['month'] || array_agg(a.attname::text ORDER BY a.attnum),
                                     ARRAY['First day of the calendar month'] || array_agg(col_description(a.attrelid, a.attnum) ORDER BY a.attnum))
     FROM pg_attribute a
    WHERE a.attrelid = 'lifecycle.retention'::regclass AND a.attnum > 0 AND NOT a.attisdropped;

  -- Moves only, with labels for customers new to the view and gone from it;
  -- as_of from the view itself, so that the companion depends on it and goes
  -- with it when it is dropped.
  EXECUTE format($v$
    CREATE VIEW %1$s AS
    SELECT coalesce(t.from_stage::varchar, 'new to the view') AS from_stage,
           coalesce(t.to_stage::varchar, 'gone from the view') AS to_stage,
           t.customers, (SELECT v.as_of FROM %3$s v LIMIT 1) AS as_of
      FROM lifecycle.transition_history t
     WHERE t.run_id = (SELECT max(run_id) FROM lifecycle.refresh_runs
                        WHERE view_name = %2$L AND outcome = 'succeeded')
       AND t.from_stage IS DISTINCT FROM t.to_stage
     ORDER BY t.customers DESC, 1, 2$v$,
    names[4], settings.view_name, settings.view_name);
  EXECUTE format('COMMENT ON VIEW %s IS %L', names[4],
                 'Customers who changed stage between the last two successful refreshes (moves only), largest moves first');
  PERFORM lifecycle._comment_columns(names[4], ARRAY['from_stage', 'to_stage', 'customers', 'as_of'],
    ARRAY['Stage at the previous refresh; new to the view: a customer the previous refresh did not have',
          'Stage at the last refresh; gone from the view: a customer it no longer has',
          'Customers who moved so', 'The day the last refresh computed']);

  -- New and returning buyers per calendar month of the orders, and cohorts
  -- of the 24 months up to the view's as-of day, at query time in the zone
  -- of the last refresh (docs/cohorts.md)
  EXECUTE format($v$
    CREATE VIEW %1$s AS
    SELECT b.* FROM %2$s s,
           lifecycle.buyer_mix_monthly(%3$L::regclass, %4$L, %5$L, %6$L, time_zone => s.time_zone) b$v$,
    names[5], lifecycle._last_run_sql(settings.view_name), settings.orders::text, settings.customer_column,
    settings.time_column, settings.amount_column);
  EXECUTE format('COMMENT ON VIEW %s IS %L', names[5],
                 'New and returning buyers per calendar month, as lifecycle.buyer_mix, computed from the orders at query time');
  EXECUTE format($v$
    CREATE VIEW %1$s AS
    SELECT c.* FROM %2$s s,
           lifecycle.cohort_retention(%3$L::regclass, %4$L, %5$L, %6$L,
                                      (s.as_of - interval '23 months')::date, s.as_of, s.time_zone) c$v$,
    names[6], lifecycle._last_run_sql(settings.view_name), settings.orders::text, settings.customer_column,
    settings.time_column, settings.amount_column);
  EXECUTE format('COMMENT ON VIEW %s IS %L', names[6],
                 'Cohort retention (first-purchase month x months since) of the 24 months up to the view''s as-of day, as lifecycle.cohort_retention, computed from the orders at query time');
  -- the metrics' own column comments (types lifecycle.buyer_mix and lifecycle.cohort_cell)
  PERFORM lifecycle._comment_columns(names[i], array_agg(a.attname::text ORDER BY a.attnum),
                                     array_agg(col_description(a.attrelid, a.attnum) ORDER BY a.attnum))
     FROM (VALUES (5, 'lifecycle.buyer_mix'::regclass), (6, 'lifecycle.cohort_cell'::regclass)) t(i, type)
     JOIN pg_attribute a ON a.attrelid = t.type AND a.attnum > 0 AND NOT a.attisdropped
    GROUP BY t.i;
END $$;
COMMENT ON FUNCTION lifecycle._create_companions(lifecycle.segment_views) IS
  'Internal: create the BI companion views of a segment view';

-- After a build or refresh (which took refresh_time): the run's row counts,
-- stage and segment counts, phase times and the transitions since the last
-- refresh: counted by the facts function, or, for views made under 1.0,
-- from their previous contents copied into a table of customer and stage.
CREATE FUNCTION lifecycle._record_refresh(run bigint, previous regclass, refresh_time interval, full_read boolean)
  RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r lifecycle.refresh_runs;
  v lifecycle.segment_views;
  facts record;
  counted boolean;
  n bigint;
  day date;
  guests bigint;
  started timestamptz := clock_timestamp();
BEGIN
  SELECT * INTO STRICT r FROM lifecycle.refresh_runs WHERE run_id = run;
  SELECT * INTO STRICT v FROM lifecycle.segment_views WHERE view_name = r.view_name;
  SELECT * INTO facts FROM lifecycle._last_facts(r.view_name);
  counted := FOUND;
  IF counted THEN
    n := facts.customers;
    guests := facts.guest_orders;
    day := coalesce(v.as_of, lifecycle.local_day(now(), v.time_zone));
  ELSE
    -- a view made under 1.0
    EXECUTE format('SELECT count(*), max(as_of) FROM %s', lifecycle._storage(v.view_name)) INTO n, day;
    EXECUTE format('SELECT count(*) FROM %s WHERE %I IS NULL', v.orders, v.customer_column) INTO guests;
  END IF;

  IF counted THEN
    -- counted while the rows were computed
    INSERT INTO lifecycle.stage_history
    SELECT run, c.stage::lifecycle.stage, c.customers, c.revenue FROM lifecycle._last_counts(r.view_name) c
     WHERE c.stage IS NOT NULL;
    INSERT INTO lifecycle.segment_history
    SELECT run, c.segment, c.customers, c.revenue FROM lifecycle._last_counts(r.view_name) c
     WHERE c.segment IS NOT NULL;
  ELSE
    -- a view made under 1.0: in one pass over it
    EXECUTE format('WITH g AS MATERIALIZED (
                      SELECT grouping(stage) AS by_segment, stage, segment, count(*) AS n, sum(monetary) AS revenue
                        FROM %s GROUP BY GROUPING SETS ((stage), (segment))),
                    s AS (INSERT INTO lifecycle.stage_history
                          SELECT %s, stage::lifecycle.stage, n, revenue FROM g WHERE by_segment = 0)
                    INSERT INTO lifecycle.segment_history
                    SELECT %s, segment, n, revenue FROM g WHERE by_segment = 1 AND segment IS NOT NULL',
                   lifecycle._storage(v.view_name), run, run);
  END IF;

  IF v.models THEN
    -- the fits the view's facts were predicted with, made once
    IF counted THEN
      INSERT INTO lifecycle.model_history VALUES (run, facts.purchases, facts.spend);
    ELSE
      EXECUTE format('INSERT INTO lifecycle.model_history
                      SELECT %s, lifecycle.bgnbd_fit(btyd_frequency, btyd_recency, btyd_t),
                             lifecycle.gammagamma_fit(btyd_frequency, btyd_monetary_value::double precision)
                        FROM %s WHERE btyd_frequency IS NOT NULL', run, lifecycle._storage(v.view_name));
    END IF;
  END IF;

  IF previous IS NOT NULL THEN
    EXECUTE format('INSERT INTO lifecycle.transition_history
                    SELECT %s, p.stage::lifecycle.stage, c.stage::lifecycle.stage, count(*)
                      FROM %s p FULL JOIN %s c ON c.%I = p.customer
                     GROUP BY p.stage, c.stage', run, previous, v.view_name, v.customer_column);
  ELSE
    INSERT INTO lifecycle.transition_history
    SELECT run, t.from_stage::lifecycle.stage, t.to_stage::lifecycle.stage, t.customers
      FROM lifecycle._last_transitions(r.view_name) t;
  END IF;

  UPDATE lifecycle.refresh_runs u
     SET finished_at = clock_timestamp(), duration = clock_timestamp() - u.started_at,
         as_of = day, customers = n, guest_orders = guests, outcome = 'succeeded',
         rows_read = facts.rows_read, read_time = facts.read_time, score_time = facts.score_time,
         fit_time = facts.fit_time, write_time = facts.write_time,
         refresh_time = _record_refresh.refresh_time, history_time = clock_timestamp() - started,
         btyd_unit_days = facts.btyd_unit_days, time_zone = v.time_zone, rows_written = facts.rows_written,
         full_read = _record_refresh.full_read
   WHERE u.run_id = run;
END $$;
COMMENT ON FUNCTION lifecycle._record_refresh(bigint, regclass, interval, boolean) IS
  'Internal: record the counts, history and transitions of a finished build or refresh';

-- COMMENT ON the segment view and each of its columns, for BI tools.
CREATE FUNCTION lifecycle._comment_view(settings lifecycle.segment_views) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  data text := lifecycle._table_name(settings.view_name, '_data');
  c record;
BEGIN
  EXECUTE format('COMMENT ON VIEW %s IS %L', settings.view_name,
    format('lifecycle segment view over %s: one row per customer, refreshed by CALL lifecycle.refresh_segment_view(%L)',
           settings.orders, settings.view_name));
  -- the rows' own comments (lifecycle._row_columns), and those of the
  -- columns the view adds
  FOR c IN SELECT CASE WHEN r.type IS NULL THEN settings.customer_column ELSE r.name END AS col, r.comment AS text,
                  true AS stored
             FROM lifecycle._row_columns() r
           UNION ALL
           SELECT v.*, false FROM (VALUES
             ('as_of', 'The day the view was computed for (fixed at refresh)'),
             ('days_in_stage', 'Days from stage_since to as_of'),
             ('churn_risk', 'Churn risk from P(alive): low (0.8 or more), medium (0.5 to 0.8), high (below 0.5); NULL unless the view''s models are on')) v
           UNION ALL
           SELECT f.name, f.comment, false FROM lifecycle._facts_columns() f
            WHERE f.name IN ('days_since_last_order', 'tenure_days', 'btyd_t')
  LOOP
    IF c.col NOT IN ('summary_state', 'fingerprint') THEN
      EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', settings.view_name, c.col, c.text);
    END IF;
    IF c.stored THEN
      EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', data, c.col, c.text);
    END IF;
  END LOOP;
END $$;
COMMENT ON FUNCTION lifecycle._comment_view(lifecycle.segment_views) IS
  'Internal: comment a segment view and its columns';

-- Create a segment view in creation_schema unless its name says another:
-- what create_segment_view does once it knows the caller's current schema.
CREATE FUNCTION lifecycle._create_segment_view(
  creation_schema  name,

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
  score_method     text DEFAULT 'bands',
  frequency_basis  text DEFAULT 'orders',
  rule_set         text DEFAULT 'default',
  btyd_unit        text DEFAULT 'day',
  models           boolean DEFAULT false,
  prediction_days  integer DEFAULT 90,
  clv_periods      integer DEFAULT 4,
  clv_period_days  integer DEFAULT 91,
  clv_discount_rate double precision DEFAULT 0.025,
  incremental      boolean DEFAULT true
) RETURNS regclass
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v lifecycle.segment_views;
  run bigint;
  started timestamptz;
  read_all boolean;
BEGIN
  v.view_name := lifecycle._qualified_view_name(view_name, creation_schema);
  IF to_regclass(v.view_name) IS NOT NULL THEN
    RAISE EXCEPTION 'relation % already exists', v.view_name USING ERRCODE = 'duplicate_table';
  END IF;
  -- settings its owner left behind when a view of that name went (a role
  -- that dropped the orders with CASCADE cannot see another role's row)
  DELETE FROM lifecycle.segment_views s WHERE s.view_name = v.view_name;
  DELETE FROM lifecycle.order_changes c WHERE c.view_name = v.view_name;
  PERFORM lifecycle.check_rule_set(rule_set);
  -- the trigger checks the other settings (lifecycle._check_segment_view)
  INSERT INTO lifecycle.segment_views AS s
         (view_name, orders, customer_column, time_column, amount_column, customers, customers_key,
          time_zone, as_of, active_days, dormant_days, churn_days, cadence_factor, cadence_min_days,
          score_method, frequency_basis, rule_set, btyd_unit, models, prediction_days, clv_periods,
          clv_period_days, clv_discount_rate, incremental)
  VALUES (v.view_name, orders, customer_column, time_column, amount_column, customers, customers_key,
          time_zone, as_of, active_days, dormant_days, churn_days, cadence_factor, cadence_min_days,
          score_method, frequency_basis, rule_set, btyd_unit, models, prediction_days, clv_periods,
          clv_period_days, clv_discount_rate,
          -- logged from before the first rows are read
          incremental AND lifecycle._create_order_triggers(v.view_name, orders, customer_column, time_column,
                                                           amount_column))
  RETURNING s.* INTO v;

  INSERT INTO lifecycle.refresh_runs (view_name) VALUES (v.view_name) RETURNING run_id INTO run;
  PERFORM lifecycle._create_rows_table(v);
  started := clock_timestamp();
  read_all := lifecycle._write_rows(v, true);
  EXECUTE format('ALTER TABLE %s ADD PRIMARY KEY (%I)', lifecycle._table_name(v.view_name, '_data'), v.customer_column);
  EXECUTE format('CREATE VIEW %s AS %s', v.view_name, lifecycle._segment_view_select(v));
  PERFORM lifecycle._comment_view(v);
  PERFORM lifecycle._create_companions(v);
  PERFORM lifecycle._record_refresh(run, NULL, clock_timestamp() - started, read_all);
  RETURN v.view_name::regclass;
END $$;
COMMENT ON FUNCTION lifecycle._create_segment_view(name, text, regclass, name, name, name, regclass, name, text, date,
  integer, integer, integer, double precision, integer, text, text, text, text, boolean, integer, integer, integer,
  double precision, boolean) IS
  'Internal: create a segment view; unqualified names go to creation_schema';

-- Not pinned to a search_path, so that current_schema() is the caller's:
-- the body is parsed when the extension is installed (BEGIN ATOMIC), so no
-- search_path can change what it calls.
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
  score_method     text DEFAULT 'bands',
  frequency_basis  text DEFAULT 'orders',
  rule_set         text DEFAULT 'default',
  btyd_unit        text DEFAULT 'day',
  models           boolean DEFAULT false,
  prediction_days  integer DEFAULT 90,
  clv_periods      integer DEFAULT 4,
  clv_period_days  integer DEFAULT 91,
  clv_discount_rate double precision DEFAULT 0.025,
  incremental      boolean DEFAULT true
) RETURNS regclass
LANGUAGE sql VOLATILE
BEGIN ATOMIC
  SELECT lifecycle._create_segment_view(pg_catalog.current_schema(), view_name, orders, customer_column, time_column, amount_column, customers, customers_key, time_zone, as_of, active_days, dormant_days, churn_days, cadence_factor, cadence_min_days, score_method, frequency_basis, rule_set, btyd_unit, models, prediction_days, clv_periods, clv_period_days, clv_discount_rate, incremental);
END;
COMMENT ON FUNCTION lifecycle.create_segment_view(text, regclass, name, name, name, regclass, name, text, date,
  integer, integer, integer, double precision, integer, text, text, text, text, boolean, integer, integer, integer,
  double precision, boolean) IS
  'Create a segment view (one row per customer) over an orders relation, with its settings, its rows table, the triggers that log order changes (incremental, when the caller owns the orders) and BI companion views; an unqualified name goes to the first schema of search_path';

-- The settings key of a segment view the current role owns, or an error.
CREATE FUNCTION lifecycle._segment_view_name(view regclass) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  name text;
  owner oid;
BEGIN
  SELECT format('%I.%I', n.nspname, c.relname), c.relowner INTO name, owner
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = view;
  IF NOT pg_has_role(owner, 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of materialized view %', view USING ERRCODE = 'insufficient_privilege',
      HINT = 'Only the owner of a segment view (or a member of its role) refreshes, changes or drops it.';
  END IF;
  IF NOT EXISTS (SELECT FROM lifecycle.segment_views v WHERE v.view_name = name) THEN
    RAISE EXCEPTION '% is not a segment view', view USING ERRCODE = 'wrong_object_type',
      HINT = 'lifecycle.segment_views lists the segment views.';
  END IF;
  RETURN name;
END $$;
COMMENT ON FUNCTION lifecycle._segment_view_name(regclass) IS 'Internal: settings key of a segment view the current role owns';

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

-- Refresh a segment view concurrently and record the outcome, with the
-- transitions from its contents before the refresh to after.  Returns NULL,
-- or the error (sqlstate, message, detail, hint) after recording it.
CREATE FUNCTION lifecycle._refresh_run(run bigint, full_read boolean) RETURNS text[]
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v lifecycle.segment_views;
  storage regclass;
  previous regclass;
  started timestamptz;
  read_all boolean := true;
  state text;
  msg text;
  detail text;
  hint text;
BEGIN
  SELECT s.* INTO STRICT v FROM lifecycle.segment_views s JOIN lifecycle.refresh_runs r USING (view_name)
   WHERE r.run_id = run;
  BEGIN
    PERFORM set_config('lock_timeout', (extract(epoch FROM v.lock_timeout) * 1000)::bigint::text, true);
    storage := lifecycle._storage(v.view_name);
    IF (SELECT c.relkind FROM pg_class c WHERE c.oid = storage) = 'r' THEN
      -- readers go on reading the rows as they were until this commits
      EXECUTE format('LOCK TABLE %s IN EXCLUSIVE MODE', storage);
      started := clock_timestamp();
      read_all := lifecycle._write_rows(v, full_read);
    ELSIF (SELECT c.relispopulated FROM pg_class c WHERE c.oid = storage) THEN
      -- a view made under 1.0: one materialized view
      IF v.keep_transitions THEN
        EXECUTE format('CREATE TEMPORARY TABLE lifecycle_previous_stages ON COMMIT DROP AS SELECT %I AS customer, stage FROM %s',
                       v.customer_column, storage);
        previous := 'pg_temp.lifecycle_previous_stages'::regclass;
      END IF;
      started := clock_timestamp();
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', storage);
    ELSE
      started := clock_timestamp();
      EXECUTE format('REFRESH MATERIALIZED VIEW %s', storage);
    END IF;
    PERFORM lifecycle._record_refresh(run, previous, clock_timestamp() - started, read_all);
    RETURN NULL;
  EXCEPTION WHEN OTHERS OR query_canceled THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
  END;
  UPDATE lifecycle.refresh_runs
     SET outcome = CASE state WHEN '57014' THEN 'cancelled' ELSE 'failed' END,
         message = msg, finished_at = clock_timestamp(), duration = clock_timestamp() - started_at
   WHERE run_id = run;
  RETURN ARRAY[state, msg, detail, coalesce(nullif(hint, ''), 'lifecycle.refresh_runs keeps the outcome of every refresh.')];
END $$;
COMMENT ON FUNCTION lifecycle._refresh_run(bigint, boolean) IS 'Internal: refresh a segment view and record the outcome';

-- The refresh for schedulers: CALL it at top level (pg_cron does), since it
-- commits the start of the run before refreshing, so that a refresh whose
-- backend is killed still leaves a trace.  (A procedure that commits cannot
-- pin its search_path: what it calls is qualified.)
CREATE PROCEDURE lifecycle.refresh_segment_view(view regclass, full_read boolean DEFAULT false)
LANGUAGE plpgsql AS $$
DECLARE
  run bigint;
  failure text[];
BEGIN
  run := lifecycle._refresh_begin(view);
  COMMIT;
  failure := lifecycle._refresh_run(run, full_read);
  COMMIT;
  IF failure[3] OPERATOR(pg_catalog.<>) '' THEN
    RAISE EXCEPTION USING ERRCODE = failure[1], MESSAGE = failure[2], DETAIL = failure[3], HINT = failure[4];
  ELSIF failure IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = failure[1], MESSAGE = failure[2], HINT = failure[4];
  END IF;
END $$;
COMMENT ON PROCEDURE lifecycle.refresh_segment_view(regclass, boolean) IS
  'Refresh a segment view (BI readers are never blocked): only the orders of customers whose orders changed are read, every order with full_read => true; record the run and its stage/segment history';

-- Drop a segment view with its companion views; the event trigger below
-- removes its settings and history.
CREATE FUNCTION lifecycle.drop_segment_view(view regclass) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  name text := lifecycle._segment_view_name(view);
  companion text;
BEGIN
  FOREACH companion IN ARRAY lifecycle._companion_names(name) LOOP
    EXECUTE format('DROP VIEW IF EXISTS %s', companion);
  END LOOP;
  -- the event trigger below drops its rows (<view>_data), settings and triggers
  IF (SELECT c.relkind FROM pg_class c WHERE c.oid = view) = 'm' THEN
    EXECUTE format('DROP MATERIALIZED VIEW %s', name);   -- made under 1.0
  ELSE
    EXECUTE format('DROP VIEW %s', name);
  END IF;
END $$;
COMMENT ON FUNCTION lifecycle.drop_segment_view(regclass) IS
  'Drop a segment view, its companion views, its settings and its history';

-- Nothing left behind: whenever a segment view or its rows are dropped (by
-- drop_segment_view, DROP VIEW ... CASCADE, DROP TABLE orders CASCADE, DROP
-- SCHEMA, DROP OWNED), its settings go, and with them its history, and what
-- did not go with it: the companions (the monthly one reads the orders, not
-- the view), the view or its rows.  A role that dropped another's view through its orders sees
-- no settings row: create_segment_view removes such a row when its owner
-- makes the view again.
CREATE FUNCTION lifecycle._segment_view_dropped() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
  dropped text;
  orders oid;
  kind text;
  companion text;
BEGIN
  FOR dropped, orders, kind IN
    DELETE FROM lifecycle.segment_views v
     USING pg_event_trigger_dropped_objects() d
     WHERE d.object_type IN ('view', 'materialized view', 'table')
       AND d.object_identity IN (v.view_name, lifecycle._table_name(v.view_name, '_data'))
    RETURNING v.view_name, v.orders, d.object_type
  LOOP
    FOREACH companion IN ARRAY lifecycle._companion_names(dropped) LOOP
      EXECUTE format('DROP VIEW IF EXISTS %s', companion);
    END LOOP;
    EXECUTE format('DROP VIEW IF EXISTS %s', dropped);
    -- a view made under 1.0 is one materialized view, without rows of its own
    IF kind <> 'materialized view' THEN
      EXECUTE format('DROP TABLE IF EXISTS %s, %s', lifecycle._table_name(dropped, '_data'),
                     lifecycle._table_name(dropped, '_log'));
    END IF;
    DELETE FROM lifecycle.order_changes c WHERE c.view_name = dropped;
    PERFORM lifecycle._drop_order_triggers(dropped, orders);
  END LOOP;
END $$;
COMMENT ON FUNCTION lifecycle._segment_view_dropped() IS
  'Event trigger: remove the settings and history of dropped segment views';
CREATE EVENT TRIGGER lifecycle_segment_view_dropped ON sql_drop
  EXECUTE FUNCTION lifecycle._segment_view_dropped();
