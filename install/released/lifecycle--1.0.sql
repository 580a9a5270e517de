-- lifecycle install script, assembled by the Makefile from install/NN_*.sql.
\echo Use "CREATE EXTENSION lifecycle" to load this file. \quit

COMMENT ON SCHEMA lifecycle IS
  'lifecycle: customer summaries, lifecycle stages, RFM scores and segments, retention metrics and BTYD models';

-- Every role may use the functions; the tables grant their own privileges.
GRANT USAGE ON SCHEMA lifecycle TO PUBLIC;
-- The customer summary: type lifecycle.rfm, the aggregate lifecycle.rfm_agg
-- and the values derived from a summary and an as-of date.

CREATE TYPE lifecycle.rfm AS (
  first_purchase    date,
  last_purchase     date,
  previous_purchase date,
  orders            bigint,
  purchase_days     integer,
  monetary          numeric,
  gross             numeric,
  refunds           bigint,
  refunded          numeric,
  first_day_spend   numeric
);
COMMENT ON TYPE lifecycle.rfm IS
  'One customer''s orders folded by lifecycle.rfm_agg: purchase days, counts and money';
COMMENT ON COLUMN lifecycle.rfm.first_purchase IS 'Day of the first purchase (amount >= 0 or NULL)';
COMMENT ON COLUMN lifecycle.rfm.last_purchase IS 'Day of the last purchase';
COMMENT ON COLUMN lifecycle.rfm.previous_purchase IS 'The purchase day before the last one; NULL with fewer than two purchase days';
COMMENT ON COLUMN lifecycle.rfm.orders IS 'Number of purchase rows (refunds are not orders)';
COMMENT ON COLUMN lifecycle.rfm.purchase_days IS 'Number of distinct purchase days';
COMMENT ON COLUMN lifecycle.rfm.monetary IS 'Net revenue: purchases minus refunds, exact';
COMMENT ON COLUMN lifecycle.rfm.gross IS 'Value of the purchases before refunds';
COMMENT ON COLUMN lifecycle.rfm.refunds IS 'Number of refund rows (negative amounts)';
COMMENT ON COLUMN lifecycle.rfm.refunded IS 'Total refunded, as a positive amount';
COMMENT ON COLUMN lifecycle.rfm.first_day_spend IS 'Value of the purchases on the first purchase day';

CREATE FUNCTION lifecycle.rfm_agg_trans_date(internal, date, numeric)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_trans_date';
CREATE FUNCTION lifecycle.rfm_agg_trans_timestamp(internal, timestamp, numeric)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_trans_timestamp';
CREATE FUNCTION lifecycle.rfm_agg_trans_timestamptz(internal, timestamptz, numeric)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_trans_timestamptz';
CREATE FUNCTION lifecycle.rfm_agg_trans_timestamptz_zone(internal, timestamptz, numeric, text)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_trans_timestamptz_zone';
CREATE FUNCTION lifecycle.rfm_agg_combine(internal, internal)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_combine';
CREATE FUNCTION lifecycle.rfm_agg_serialize(internal)
  RETURNS bytea LANGUAGE c PARALLEL SAFE STRICT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_serialize';
CREATE FUNCTION lifecycle.rfm_agg_deserialize(bytea, internal)
  RETURNS internal LANGUAGE c PARALLEL SAFE STRICT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_deserialize';
CREATE FUNCTION lifecycle.rfm_agg_final(internal)
  RETURNS lifecycle.rfm LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_agg_final';

COMMENT ON FUNCTION lifecycle.rfm_agg_trans_date(internal, date, numeric) IS 'rfm_agg transition for date order times';
COMMENT ON FUNCTION lifecycle.rfm_agg_trans_timestamp(internal, timestamp, numeric) IS 'rfm_agg transition for timestamp order times';
COMMENT ON FUNCTION lifecycle.rfm_agg_trans_timestamptz(internal, timestamptz, numeric) IS 'rfm_agg transition for timestamptz order times, days in UTC';
COMMENT ON FUNCTION lifecycle.rfm_agg_trans_timestamptz_zone(internal, timestamptz, numeric, text) IS 'rfm_agg transition for timestamptz order times, days in the given zone';
COMMENT ON FUNCTION lifecycle.rfm_agg_combine(internal, internal) IS 'rfm_agg: merge two partial states (parallel query)';
COMMENT ON FUNCTION lifecycle.rfm_agg_serialize(internal) IS 'rfm_agg: portable, versioned serialization of a state';
COMMENT ON FUNCTION lifecycle.rfm_agg_deserialize(bytea, internal) IS 'rfm_agg: read a serialized state, validating it';
COMMENT ON FUNCTION lifecycle.rfm_agg_final(internal) IS 'rfm_agg: build the lifecycle.rfm summary';

CREATE AGGREGATE lifecycle.rfm_agg(order_time date, amount numeric) (
  SFUNC = lifecycle.rfm_agg_trans_date, STYPE = internal,
  FINALFUNC = lifecycle.rfm_agg_final,
  COMBINEFUNC = lifecycle.rfm_agg_combine,
  SERIALFUNC = lifecycle.rfm_agg_serialize, DESERIALFUNC = lifecycle.rfm_agg_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.rfm_agg(order_time timestamp, amount numeric) (
  SFUNC = lifecycle.rfm_agg_trans_timestamp, STYPE = internal,
  FINALFUNC = lifecycle.rfm_agg_final,
  COMBINEFUNC = lifecycle.rfm_agg_combine,
  SERIALFUNC = lifecycle.rfm_agg_serialize, DESERIALFUNC = lifecycle.rfm_agg_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.rfm_agg(order_time timestamptz, amount numeric) (
  SFUNC = lifecycle.rfm_agg_trans_timestamptz, STYPE = internal,
  FINALFUNC = lifecycle.rfm_agg_final,
  COMBINEFUNC = lifecycle.rfm_agg_combine,
  SERIALFUNC = lifecycle.rfm_agg_serialize, DESERIALFUNC = lifecycle.rfm_agg_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.rfm_agg(order_time timestamptz, amount numeric, time_zone text) (
  SFUNC = lifecycle.rfm_agg_trans_timestamptz_zone, STYPE = internal,
  FINALFUNC = lifecycle.rfm_agg_final,
  COMBINEFUNC = lifecycle.rfm_agg_combine,
  SERIALFUNC = lifecycle.rfm_agg_serialize, DESERIALFUNC = lifecycle.rfm_agg_deserialize,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE lifecycle.rfm_agg(date, numeric) IS
  'Fold a customer''s orders (order day, amount) into a lifecycle.rfm summary';
COMMENT ON AGGREGATE lifecycle.rfm_agg(timestamp, numeric) IS
  'Fold a customer''s orders (local order time, amount) into a lifecycle.rfm summary';
COMMENT ON AGGREGATE lifecycle.rfm_agg(timestamptz, numeric) IS
  'Fold a customer''s orders into a lifecycle.rfm summary; days are UTC calendar days';
COMMENT ON AGGREGATE lifecycle.rfm_agg(timestamptz, numeric, text) IS
  'Fold a customer''s orders into a lifecycle.rfm summary; days are calendar days in the given IANA zone';

CREATE FUNCTION lifecycle.days_since_last_order(summary lifecycle.rfm, as_of date)
  RETURNS integer LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_days_since_last_order';
COMMENT ON FUNCTION lifecycle.days_since_last_order(lifecycle.rfm, date) IS
  'RFM recency: days from the last purchase to the as-of date';

CREATE FUNCTION lifecycle.tenure_days(summary lifecycle.rfm, as_of date)
  RETURNS integer LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_tenure_days';
COMMENT ON FUNCTION lifecycle.tenure_days(lifecycle.rfm, date) IS
  'Days from the first purchase to the as-of date';

CREATE FUNCTION lifecycle.mean_interval_days(summary lifecycle.rfm)
  RETURNS numeric LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_mean_interval_days';
COMMENT ON FUNCTION lifecycle.mean_interval_days(lifecycle.rfm) IS
  'Mean days between purchase days: (last - first) / (purchase_days - 1); NULL below two purchase days';

CREATE FUNCTION lifecycle.aov(summary lifecycle.rfm)
  RETURNS numeric LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_aov';
COMMENT ON FUNCTION lifecycle.aov(lifecycle.rfm) IS
  'Average order value: gross purchase value / orders';

CREATE TYPE lifecycle.btyd AS (
  frequency      integer,
  recency        double precision,
  t              double precision,
  monetary_value numeric
);
COMMENT ON TYPE lifecycle.btyd IS
  'Per-customer inputs of the BTYD models, as lifetimes'' summary_data_from_transaction_data(freq=''D'') computes them';
COMMENT ON COLUMN lifecycle.btyd.frequency IS 'Repeat purchase days: purchase days - 1';
COMMENT ON COLUMN lifecycle.btyd.recency IS 'Age at the last purchase: last - first purchase day, in the time unit (not days since the last order)';
COMMENT ON COLUMN lifecycle.btyd.t IS 'Age at the as-of date (T): as-of day - first purchase day, in the time unit';
COMMENT ON COLUMN lifecycle.btyd.monetary_value IS 'Mean spend of the repeat purchase days (first day left out); 0 if none';

CREATE FUNCTION lifecycle.btyd(summary lifecycle.rfm, as_of date, time_unit text DEFAULT 'day')
  RETURNS lifecycle.btyd LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_btyd';
COMMENT ON FUNCTION lifecycle.btyd(lifecycle.rfm, date, text) IS
  'BTYD columns (frequency, recency, T, monetary_value) at an as-of date, in days or weeks';
-- Lifecycle stages (PRODUCT.md section 3): the enum lifecycle.stage and the
-- function that places a customer summary in a stage at an as-of date.

CREATE TYPE lifecycle.stage AS ENUM (
  'prospect', 'new', 'active', 'at_risk', 'dormant', 'churned', 'reactivated'
);
COMMENT ON TYPE lifecycle.stage IS
  'Where a customer stands at an as-of date: prospect, new, active, at_risk, dormant, churned, reactivated';

CREATE FUNCTION lifecycle.stage(
  summary lifecycle.rfm,
  as_of date,
  active_days integer DEFAULT 90,
  dormant_days integer DEFAULT 180,
  churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0,
  cadence_min_days integer DEFAULT 30)
  RETURNS lifecycle.stage LANGUAGE c IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'rfm_stage';
COMMENT ON FUNCTION lifecycle.stage(lifecycle.rfm, date, integer, integer, integer, double precision, integer) IS
  'Lifecycle stage at as_of, first matching rule: prospect (no purchase), churned (R > churn_days), dormant (R > dormant_days), at_risk (R > active_days), reactivated (bought again after a gap > churn_days), new (one purchase day), at_risk (R > max(cadence_factor x mean interval, cadence_min_days); NULL cadence_factor turns this rule off), else active';
-- RFM scores (PRODUCT.md section 4): the breaks of a population, computed by
-- the aggregate lifecycle.rfm_breaks in one pass, and the 1-5 scores they give.

CREATE TYPE lifecycle.rfm_breaks AS (
  method text,
  r      double precision[],
  f      double precision[],
  m      double precision[]
);
COMMENT ON TYPE lifecycle.rfm_breaks IS
  'The four breaks between RFM scores 1-5 of a customer population, per metric, and the method that made them';
COMMENT ON COLUMN lifecycle.rfm_breaks.method IS 'quantile, rfm_r or ntile (ntile scores come from a window function; its breaks are NULL)';
COMMENT ON COLUMN lifecycle.rfm_breaks.r IS 'Breaks of days_since_last_order (recency): fewer days score higher';
COMMENT ON COLUMN lifecycle.rfm_breaks.f IS 'Breaks of frequency (orders, or purchase days)';
COMMENT ON COLUMN lifecycle.rfm_breaks.m IS 'Breaks of monetary (net revenue)';

CREATE FUNCTION lifecycle.rfm_breaks_trans(internal, integer, numeric, numeric, text)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_breaks_trans';
CREATE FUNCTION lifecycle.rfm_breaks_trans(internal, integer, numeric, numeric)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_breaks_trans';
CREATE FUNCTION lifecycle.rfm_breaks_combine(internal, internal)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_breaks_combine';
CREATE FUNCTION lifecycle.rfm_breaks_serialize(internal)
  RETURNS bytea LANGUAGE c PARALLEL SAFE STRICT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_breaks_serialize';
CREATE FUNCTION lifecycle.rfm_breaks_deserialize(bytea, internal)
  RETURNS internal LANGUAGE c PARALLEL SAFE STRICT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_breaks_deserialize';
CREATE FUNCTION lifecycle.rfm_breaks_final(internal)
  RETURNS lifecycle.rfm_breaks LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'rfm_breaks_final';

COMMENT ON FUNCTION lifecycle.rfm_breaks_trans(internal, integer, numeric, numeric, text) IS 'rfm_breaks transition: collect one customer''s metrics';
COMMENT ON FUNCTION lifecycle.rfm_breaks_trans(internal, integer, numeric, numeric) IS 'rfm_breaks transition (quantile method): collect one customer''s metrics';
COMMENT ON FUNCTION lifecycle.rfm_breaks_combine(internal, internal) IS 'rfm_breaks: merge two partial states (parallel query)';
COMMENT ON FUNCTION lifecycle.rfm_breaks_serialize(internal) IS 'rfm_breaks: portable, versioned serialization of a state';
COMMENT ON FUNCTION lifecycle.rfm_breaks_deserialize(bytea, internal) IS 'rfm_breaks: read a serialized state, validating it';
COMMENT ON FUNCTION lifecycle.rfm_breaks_final(internal) IS 'rfm_breaks: the quantile breaks of each metric';

CREATE AGGREGATE lifecycle.rfm_breaks(days_since_last_order integer, frequency numeric,
                                      monetary numeric, method text) (
  SFUNC = lifecycle.rfm_breaks_trans, STYPE = internal,
  FINALFUNC = lifecycle.rfm_breaks_final,
  COMBINEFUNC = lifecycle.rfm_breaks_combine,
  SERIALFUNC = lifecycle.rfm_breaks_serialize, DESERIALFUNC = lifecycle.rfm_breaks_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.rfm_breaks(days_since_last_order integer, frequency numeric,
                                      monetary numeric) (
  SFUNC = lifecycle.rfm_breaks_trans, STYPE = internal,
  FINALFUNC = lifecycle.rfm_breaks_final,
  COMBINEFUNC = lifecycle.rfm_breaks_combine,
  SERIALFUNC = lifecycle.rfm_breaks_serialize, DESERIALFUNC = lifecycle.rfm_breaks_deserialize,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE lifecycle.rfm_breaks(integer, numeric, numeric, text) IS
  'Score breaks of a customer population in one pass: quantile (type-7 quantiles at 20/40/60/80 %, as percentile_cont), rfm_r (the same + 1, as R rfm 0.3.0) or ntile (no breaks); customers with NULL days_since_last_order are not scored';
COMMENT ON AGGREGATE lifecycle.rfm_breaks(integer, numeric, numeric) IS
  'Score breaks of a customer population by the quantile method: type-7 quantiles at 20/40/60/80 %, as percentile_cont';

CREATE FUNCTION lifecycle.r_score(days_since_last_order integer, breaks lifecycle.rfm_breaks)
  RETURNS integer LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_r_score';
COMMENT ON FUNCTION lifecycle.r_score(integer, lifecycle.rfm_breaks) IS
  'Recency score 1-5, recent customers high: quantile = 1 + breaks above the days; rfm_r = 5 - breaks at or below the days';

CREATE FUNCTION lifecycle.f_score(frequency numeric, breaks lifecycle.rfm_breaks)
  RETURNS integer LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_f_score';
COMMENT ON FUNCTION lifecycle.f_score(numeric, lifecycle.rfm_breaks) IS
  'Frequency score 1-5: quantile = 1 + breaks strictly below the value; rfm_r = 1 + breaks at or below it';

CREATE FUNCTION lifecycle.m_score(monetary numeric, breaks lifecycle.rfm_breaks)
  RETURNS integer LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'rfm_m_score';
COMMENT ON FUNCTION lifecycle.m_score(numeric, lifecycle.rfm_breaks) IS
  'Monetary score 1-5: quantile = 1 + breaks strictly below the value; rfm_r = 1 + breaks at or below it';
-- Named RFM segments (PRODUCT.md section 4): ordered rule tables, the two
-- shipped rule sets, and the functions that name a score combination.

CREATE TABLE lifecycle.segment_rules (
  rule_set text NOT NULL,
  position integer NOT NULL,
  segment  text NOT NULL,
  r_min    integer,
  r_max    integer,
  f_min    integer,
  f_max    integer,
  m_min    integer,
  m_max    integer,
  shipped  boolean NOT NULL DEFAULT false,
  PRIMARY KEY (rule_set, position),
  CONSTRAINT segment_rules_scores_1_to_5 CHECK (
    r_min BETWEEN 1 AND 5 AND r_max BETWEEN 1 AND 5 AND
    f_min BETWEEN 1 AND 5 AND f_max BETWEEN 1 AND 5 AND
    m_min BETWEEN 1 AND 5 AND m_max BETWEEN 1 AND 5),
  CONSTRAINT segment_rules_min_le_max CHECK (
    r_min <= r_max AND f_min <= f_max AND m_min <= m_max),
  CONSTRAINT segment_rules_named CHECK (rule_set <> '' AND segment <> '')
);
COMMENT ON TABLE lifecycle.segment_rules IS
  'Ordered rules that name RFM score combinations; within a rule set the first matching rule (lowest position) wins, no match is Others. Add rule sets with INSERT; pg_dump keeps them';
COMMENT ON COLUMN lifecycle.segment_rules.rule_set IS 'Name of the rule set (default and classic are shipped)';
COMMENT ON COLUMN lifecycle.segment_rules.position IS 'Order of evaluation within the rule set: lowest first';
COMMENT ON COLUMN lifecycle.segment_rules.segment IS 'Segment name given to the scores this rule matches';
COMMENT ON COLUMN lifecycle.segment_rules.r_min IS 'Lowest recency score matched (inclusive); NULL = 1';
COMMENT ON COLUMN lifecycle.segment_rules.r_max IS 'Highest recency score matched (inclusive); NULL = 5';
COMMENT ON COLUMN lifecycle.segment_rules.f_min IS 'Lowest frequency score matched (inclusive); NULL = 1';
COMMENT ON COLUMN lifecycle.segment_rules.f_max IS 'Highest frequency score matched (inclusive); NULL = 5';
COMMENT ON COLUMN lifecycle.segment_rules.m_min IS 'Lowest monetary score matched (inclusive); NULL = 1';
COMMENT ON COLUMN lifecycle.segment_rules.m_max IS 'Highest monetary score matched (inclusive); NULL = 5';
COMMENT ON COLUMN lifecycle.segment_rules.shipped IS 'True for the rule sets installed by the extension (read-only; pg_dump leaves them to CREATE EXTENSION)';

-- default: the rfm package's documented rules.
INSERT INTO lifecycle.segment_rules
  (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max, shipped) VALUES
  ('default',  1, 'Champions',          5, 5, 5, 5, 5, 5, true),
  ('default',  2, 'Potential Loyalist', 3, 5, 3, 5, 2, 5, true),
  ('default',  3, 'Loyal Customers',    2, 4, 2, 4, 2, 4, true),
  ('default',  4, 'Promising',          3, 4, 1, 3, 3, 5, true),
  ('default',  5, 'New Customers',      4, 5, 1, 3, 1, 5, true),
  ('default',  6, 'Can''t Lose Them',   1, 2, 3, 4, 4, 5, true),
  ('default',  7, 'At Risk',            1, 2, 2, 5, 4, 5, true),
  ('default',  8, 'Need Attention',     1, 3, 3, 5, 3, 5, true),
  ('default',  9, 'About To Sleep',     2, 3, 1, 3, 1, 4, true),
  ('default', 10, 'Lost',               1, 1, 1, 5, 1, 5, true),
-- classic: the rule set of the rfm package's own tests.
  ('classic',  1, 'Champions',          4, 5, 4, 5, 4, 5, true),
  ('classic',  2, 'Loyal Customers',    2, 5, 3, 5, 3, 5, true),
  ('classic',  3, 'Potential Loyalist', 3, 5, 1, 3, 1, 3, true),
  ('classic',  4, 'New Customers',      4, 5, 1, 1, 1, 1, true),
  ('classic',  5, 'Promising',          3, 4, 1, 1, 1, 1, true),
  ('classic',  6, 'Need Attention',     2, 3, 2, 3, 2, 3, true),
  ('classic',  7, 'About To Sleep',     2, 3, 1, 2, 1, 2, true),
  ('classic',  8, 'At Risk',            1, 2, 2, 5, 2, 5, true),
  ('classic',  9, 'Can''t Lose Them',   1, 1, 4, 5, 4, 5, true),
  ('classic', 10, 'Lost',               1, 2, 1, 2, 1, 2, true);

SELECT pg_catalog.pg_extension_config_dump('lifecycle.segment_rules', 'WHERE NOT shipped');

-- Shipped rows are the extension's: pg_dump leaves them out (CREATE EXTENSION
-- brings them back), so a change to them would be lost silently on restore.
CREATE FUNCTION lifecycle.segment_rules_guard()
  RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF (TG_OP <> 'INSERT' AND OLD.shipped) OR (TG_OP <> 'DELETE' AND NEW.shipped) THEN
    RAISE EXCEPTION 'shipped segment rule sets are read-only'
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'Rows with shipped = true come with the extension; pg_dump does not keep changes to them.',
            HINT = 'Copy the rule set under a new name and change the copy: INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max) SELECT ''mine'', position, segment, r_min, r_max, f_min, f_max, m_min, m_max FROM lifecycle.segment_rules WHERE rule_set = ''default''.';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lifecycle.segment_rules_guard() IS
  'Trigger: keep the shipped rule sets read-only and user rows unshipped, so that pg_dump keeps every change';
CREATE TRIGGER segment_rules_guard
  BEFORE INSERT OR UPDATE OR DELETE ON lifecycle.segment_rules
  FOR EACH ROW EXECUTE FUNCTION lifecycle.segment_rules_guard();

-- Raise the error for a rule set that has no rule.
CREATE FUNCTION lifecycle.check_rule_set(rule_set text)
  RETURNS void LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF rule_set IS NULL THEN
    RAISE EXCEPTION 'rule set must not be NULL'
      USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Use ''default'', ''classic'' or a rule set of your own in lifecycle.segment_rules.';
  END IF;
  IF NOT EXISTS (SELECT FROM lifecycle.segment_rules s WHERE s.rule_set = check_rule_set.rule_set) THEN
    RAISE EXCEPTION 'segment rule set "%" does not exist', rule_set
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('Known rule sets: %s.',
                            (SELECT string_agg(DISTINCT s.rule_set, ', ' ORDER BY s.rule_set) FROM lifecycle.segment_rules s)),
            HINT = 'Add one with INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max) VALUES (...): rules are tried by position, the first match names the segment.';
  END IF;
END
$$;
COMMENT ON FUNCTION lifecycle.check_rule_set(text) IS
  'Raise a clear error unless lifecycle.segment_rules holds the rule set';

CREATE FUNCTION lifecycle.segment(r integer, f integer, m integer, rule_set text DEFAULT 'default')
  RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  name text;
BEGIN
  PERFORM lifecycle.check_rule_set(rule_set);
  IF r IS NULL OR f IS NULL OR m IS NULL THEN
    RETURN NULL;
  END IF;
  IF r NOT BETWEEN 1 AND 5 OR f NOT BETWEEN 1 AND 5 OR m NOT BETWEEN 1 AND 5 THEN
    RAISE EXCEPTION 'RFM scores must be between 1 and 5'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('Got R = %s, F = %s, M = %s.', r, f, m);
  END IF;
  SELECT s.segment INTO name
    FROM lifecycle.segment_rules s
   WHERE s.rule_set = segment.rule_set
     AND r BETWEEN coalesce(s.r_min, 1) AND coalesce(s.r_max, 5)
     AND f BETWEEN coalesce(s.f_min, 1) AND coalesce(s.f_max, 5)
     AND m BETWEEN coalesce(s.m_min, 1) AND coalesce(s.m_max, 5)
   ORDER BY s.position
   LIMIT 1;
  RETURN coalesce(name, 'Others');
END
$$;
COMMENT ON FUNCTION lifecycle.segment(integer, integer, integer, text) IS
  'Segment of an (R, F, M) score combination: the first rule of the rule set that matches, by position; Others if none; NULL if a score is NULL';

CREATE FUNCTION lifecycle.segment_map(rule_set text DEFAULT 'default')
  RETURNS TABLE (r integer, f integer, m integer, segment text)
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT ROWS 125
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM lifecycle.check_rule_set(rule_set);
  RETURN QUERY
  SELECT g.r, g.f, g.m, coalesce(first_match.segment, 'Others')
    FROM (SELECT rr.r::integer AS r, ff.f::integer AS f, mm.m::integer AS m
            FROM generate_series(1, 5) rr(r), generate_series(1, 5) ff(f), generate_series(1, 5) mm(m)) g
    LEFT JOIN LATERAL (
      SELECT s.segment
        FROM lifecycle.segment_rules s
       WHERE s.rule_set = segment_map.rule_set
         AND g.r BETWEEN coalesce(s.r_min, 1) AND coalesce(s.r_max, 5)
         AND g.f BETWEEN coalesce(s.f_min, 1) AND coalesce(s.f_max, 5)
         AND g.m BETWEEN coalesce(s.m_min, 1) AND coalesce(s.m_max, 5)
       ORDER BY s.position
       LIMIT 1) first_match ON true
   ORDER BY g.r, g.f, g.m;
END
$$;
COMMENT ON FUNCTION lifecycle.segment_map(text) IS
  'All 125 (R, F, M) score combinations with their segment under a rule set, to join instead of calling lifecycle.segment per row';
-- Retention metrics, per-stage and per-segment summaries and stage
-- transitions (PRODUCT.md section 5), read from a user's orders relation.
-- These are orchestration in PL/pgSQL: the work is done by rfm_agg,
-- lifecycle.stage, rfm_breaks and the scores.  Table and column names reach
-- dynamic SQL only through regclass and format('%I').

-- The rows of an orders relation as (customer, day, amount), for dynamic SQL.
CREATE FUNCTION lifecycle.orders_sql(
  orders regclass, customer_column text, time_column text, amount_column text,
  time_zone text, from_day date, to_day date)
  RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  SET datestyle = 'ISO, YMD'
AS $$
DECLARE
  col text;
  time_type regtype;
  amount_type regtype;
  t text := format('%I', time_column);
  day_expr text;
  conds text[] := ARRAY[format('%I IS NOT NULL', customer_column), format('%I IS NOT NULL', time_column)];
BEGIN
  IF orders IS NULL OR customer_column IS NULL OR time_column IS NULL OR amount_column IS NULL THEN
    RAISE EXCEPTION 'orders relation and column names must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF time_zone IS NULL THEN
    RAISE EXCEPTION 'time zone must not be NULL'
      USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass the zone whose calendar days count, e.g. ''UTC''.';
  END IF;
  PERFORM now() AT TIME ZONE time_zone;   -- an unknown zone fails here
  IF isfinite(from_day) IS FALSE OR isfinite(to_day) IS FALSE THEN
    RAISE EXCEPTION 'period bounds must be finite dates'
      USING ERRCODE = 'datetime_field_overflow';
  END IF;
  FOREACH col IN ARRAY ARRAY[customer_column, time_column, amount_column] LOOP
    IF NOT EXISTS (SELECT FROM pg_attribute a
                    WHERE a.attrelid = orders AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped) THEN
      RAISE EXCEPTION 'column "%" of relation % does not exist', col, orders
        USING ERRCODE = 'undefined_column';
    END IF;
  END LOOP;
  SELECT CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END::regtype INTO time_type
    FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
   WHERE a.attrelid = orders AND a.attname = time_column;
  SELECT a.atttypid::regtype INTO amount_type
    FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
   WHERE a.attrelid = orders AND a.attname = amount_column AND ty.typcategory = 'N';
  IF amount_type IS NULL THEN
    RAISE EXCEPTION 'amount column "%" must be of a numeric type', amount_column
      USING ERRCODE = 'datatype_mismatch';
  END IF;

  CASE time_type
  WHEN 'date'::regtype THEN
    day_expr := t;
    IF from_day IS NOT NULL THEN conds := conds || format('%s >= %L::date', t, from_day); END IF;
    IF to_day IS NOT NULL THEN conds := conds || format('%s < %L::date', t, to_day); END IF;
  WHEN 'timestamp without time zone'::regtype THEN
    day_expr := format('%s::date', t);
    IF from_day IS NOT NULL THEN conds := conds || format('%s >= %L::timestamp', t, from_day); END IF;
    IF to_day IS NOT NULL THEN conds := conds || format('%s < %L::timestamp', t, to_day); END IF;
  WHEN 'timestamp with time zone'::regtype THEN
    -- The exact test is on the local day; a bound a day wider on the column
    -- itself lets an index on it narrow the scan.
    day_expr := format('(%s AT TIME ZONE %L)::date', t, time_zone);
    IF from_day IS NOT NULL THEN
      conds := conds || format('%s >= (%L::timestamp AT TIME ZONE %L)', t, from_day - 1, time_zone)
                     || format('%s >= %L::date', day_expr, from_day);
    END IF;
    IF to_day IS NOT NULL THEN
      conds := conds || format('%s < (%L::timestamp AT TIME ZONE %L)', t, to_day + 1, time_zone)
                     || format('%s < %L::date', day_expr, to_day);
    END IF;
  ELSE
    RAISE EXCEPTION 'order time column "%" must be of type date, timestamp or timestamptz', time_column
      USING ERRCODE = 'datatype_mismatch',
            DETAIL = format('It is of type %s.', time_type);
  END CASE;

  RETURN format('SELECT %I AS customer, %s AS day, %I::numeric AS amount FROM %s WHERE %s',
                customer_column, day_expr, amount_column, orders, array_to_string(conds, ' AND '));
END
$$;
COMMENT ON FUNCTION lifecycle.orders_sql(regclass, text, text, text, text, date, date) IS
  'SQL text reading an orders relation as (customer, day, amount) rows with from_day <= day < to_day (NULL bound: open); days of a timestamptz are taken in time_zone; rows without customer or time are left out';

-- Reject a period whose bounds are missing or reversed.
CREATE FUNCTION lifecycle.check_period(from_date date, to_date date)
  RETURNS void LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF from_date IS NULL OR to_date IS NULL THEN
    RAISE EXCEPTION 'period dates must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF from_date > to_date THEN
    RAISE EXCEPTION 'period starts after it ends: % > %', from_date, to_date
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass the earlier date first.';
  END IF;
END
$$;
COMMENT ON FUNCTION lifecycle.check_period(date, date) IS
  'Raise a clear error unless from_date <= to_date, both given';

CREATE TYPE lifecycle.retention AS (
  customers            bigint,
  orders               bigint,
  revenue              numeric,
  repeat_customers     bigint,
  repeat_purchase_rate numeric,
  purchase_frequency   numeric,
  aov                  numeric,
  customer_value       numeric,
  refunds              bigint,
  refunded             numeric,
  net_revenue          numeric
);
COMMENT ON TYPE lifecycle.retention IS 'A store''s retention metrics over a period';
COMMENT ON COLUMN lifecycle.retention.customers IS 'Distinct customers with at least one purchase in the period';
COMMENT ON COLUMN lifecycle.retention.orders IS 'Purchase rows in the period (amount >= 0 or unknown)';
COMMENT ON COLUMN lifecycle.retention.revenue IS 'Value of the purchases in the period, before refunds';
COMMENT ON COLUMN lifecycle.retention.repeat_customers IS 'Customers with two or more orders in the period';
COMMENT ON COLUMN lifecycle.retention.repeat_purchase_rate IS 'repeat_customers / customers';
COMMENT ON COLUMN lifecycle.retention.purchase_frequency IS 'orders / customers';
COMMENT ON COLUMN lifecycle.retention.aov IS 'Average order value: revenue / orders';
COMMENT ON COLUMN lifecycle.retention.customer_value IS 'purchase_frequency x aov, computed as revenue / customers';
COMMENT ON COLUMN lifecycle.retention.refunds IS 'Refund rows (negative amounts) in the period';
COMMENT ON COLUMN lifecycle.retention.refunded IS 'Total refunded in the period, as a positive amount';
COMMENT ON COLUMN lifecycle.retention.net_revenue IS 'revenue - refunded';

-- The metrics from a period's totals: the one place their formulas live, for
-- lifecycle.retention_metrics and the segment view's monthly companion.
CREATE FUNCTION lifecycle.retention_of(customers bigint, orders bigint, revenue numeric,
                                       repeat_customers bigint, refunds bigint, refunded numeric)
  RETURNS lifecycle.retention LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT customers, orders, revenue, repeat_customers,
         repeat_customers::numeric OPERATOR(pg_catalog./) NULLIF(customers, 0),
         orders::numeric OPERATOR(pg_catalog./) NULLIF(customers, 0),
         revenue OPERATOR(pg_catalog./) NULLIF(orders, 0),
         revenue OPERATOR(pg_catalog./) NULLIF(customers, 0),
         refunds, refunded, revenue OPERATOR(pg_catalog.-) refunded;
END;
COMMENT ON FUNCTION lifecycle.retention_of(bigint, bigint, numeric, bigint, bigint, numeric) IS
  'Retention metrics from a period''s totals: customers, orders, revenue before refunds, repeat customers, refunds, refunded';

CREATE FUNCTION lifecycle.retention_metrics(
  orders regclass, customer_column text, time_column text, amount_column text,
  period_from date, period_to date, time_zone text DEFAULT 'UTC')
  RETURNS lifecycle.retention LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  result lifecycle.retention;
BEGIN
  PERFORM lifecycle.check_period(period_from, period_to);
  EXECUTE format($q$
    SELECT (lifecycle.retention_of(count(*) FILTER (WHERE (s).orders > 0),
                                   coalesce(sum((s).orders), 0)::bigint,
                                   coalesce(sum((s).gross), 0),
                                   count(*) FILTER (WHERE (s).orders >= 2),
                                   coalesce(sum((s).refunds), 0)::bigint,
                                   coalesce(sum((s).refunded), 0))).*
      FROM (SELECT lifecycle.rfm_agg(o.day, o.amount) AS s FROM (%s) o GROUP BY o.customer) c
    $q$, lifecycle.orders_sql(orders, customer_column, time_column, amount_column,
                               time_zone, period_from, period_to))
    INTO result;
  RETURN result;
END
$$;
COMMENT ON FUNCTION lifecycle.retention_metrics(regclass, text, text, text, date, date, text) IS
  'Retention metrics over the days [period_from, period_to): customers, orders, revenue (before refunds), repeat customers (2+ orders), repeat purchase rate, purchase frequency, AOV, customer value, refunds';

-- One row per customer: their stage at two as-of dates and their summaries.
CREATE FUNCTION lifecycle.customer_stages(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_date date, to_date date, time_zone text DEFAULT 'UTC',
  active_days integer DEFAULT 90, dormant_days integer DEFAULT 180, churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0, cadence_min_days integer DEFAULT 30)
  RETURNS TABLE (customer text, from_stage lifecycle.stage, to_stage lifecycle.stage,
                 from_summary lifecycle.rfm, to_summary lifecycle.rfm)
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM lifecycle.check_period(from_date, to_date);
  -- thresholds are checked once, even when no customer would check them
  PERFORM lifecycle.stage(NULL, to_date, active_days, dormant_days, churn_days,
                          cadence_factor, cadence_min_days);
  RETURN QUERY EXECUTE format($q$
    SELECT c.customer::text,
           lifecycle.stage(c.s_from, $1, $3, $4, $5, $6, $7),
           lifecycle.stage(c.s_to, $2, $3, $4, $5, $6, $7),
           c.s_from, c.s_to
      FROM (SELECT o.customer,
                   lifecycle.rfm_agg(o.day, o.amount) FILTER (WHERE o.day <= $1) AS s_from,
                   lifecycle.rfm_agg(o.day, o.amount) AS s_to
              FROM (%s) o GROUP BY o.customer) c
    $q$, lifecycle.orders_sql(orders, customer_column, time_column, amount_column,
                               time_zone, NULL, to_date + 1))
    USING from_date, to_date, active_days, dormant_days, churn_days, cadence_factor, cadence_min_days;
END
$$;
COMMENT ON FUNCTION lifecycle.customer_stages(regclass, text, text, text, date, date, text, integer, integer, integer, double precision, integer) IS
  'Every customer with an order up to to_date: stage and summary at from_date and at to_date (orders on the as-of day count); a customer with no order by from_date is a prospect then';

CREATE FUNCTION lifecycle.stage_transitions(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_date date, to_date date, time_zone text DEFAULT 'UTC',
  active_days integer DEFAULT 90, dormant_days integer DEFAULT 180, churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0, cadence_min_days integer DEFAULT 30)
  RETURNS TABLE (from_stage lifecycle.stage, to_stage lifecycle.stage, customers bigint)
  LANGUAGE sql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT c.from_stage, c.to_stage, count(*)
    FROM lifecycle.customer_stages(orders, customer_column, time_column, amount_column,
                                   from_date, to_date, time_zone, active_days, dormant_days,
                                   churn_days, cadence_factor, cadence_min_days) c
   GROUP BY c.from_stage, c.to_stage
   ORDER BY c.from_stage, c.to_stage;
END;
COMMENT ON FUNCTION lifecycle.stage_transitions(regclass, text, text, text, date, date, text, integer, integer, integer, double precision, integer) IS
  'How many customers moved from each stage at from_date to each stage at to_date';

CREATE FUNCTION lifecycle.transition_rates(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_date date, to_date date, time_zone text DEFAULT 'UTC',
  active_days integer DEFAULT 90, dormant_days integer DEFAULT 180, churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0, cadence_min_days integer DEFAULT 30)
  RETURNS TABLE (churn_base bigint, churned bigint, churn_rate numeric,
                 win_back_base bigint, won_back bigint, win_back_rate numeric,
                 new_base bigint, converted bigint, new_to_repeat_rate numeric)
  LANGUAGE sql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT k.churn_base, k.churned, k.churned::numeric / nullif(k.churn_base, 0),
         k.win_back_base, k.won_back, k.won_back::numeric / nullif(k.win_back_base, 0),
         k.new_base, k.converted, k.converted::numeric / nullif(k.new_base, 0)
    FROM (SELECT count(*) FILTER (WHERE c.from_stage NOT IN ('prospect', 'churned')) AS churn_base,
                 count(*) FILTER (WHERE c.from_stage NOT IN ('prospect', 'churned')
                                    AND c.to_stage = 'churned') AS churned,
                 count(*) FILTER (WHERE c.from_stage = 'churned') AS win_back_base,
                 count(*) FILTER (WHERE c.from_stage = 'churned'
                                    AND (c.to_summary).last_purchase > from_date) AS won_back,
                 count(*) FILTER (WHERE c.from_stage = 'new') AS new_base,
                 count(*) FILTER (WHERE c.from_stage = 'new'
                                    AND (c.to_summary).purchase_days >= 2) AS converted
            FROM lifecycle.customer_stages(orders, customer_column, time_column, amount_column,
                                           from_date, to_date, time_zone, active_days, dormant_days,
                                           churn_days, cadence_factor, cadence_min_days) c) k;
END;
COMMENT ON FUNCTION lifecycle.transition_rates(regclass, text, text, text, date, date, text, integer, integer, integer, double precision, integer) IS
  'Churn rate (of customers neither prospect nor churned at from_date, the share churned at to_date), win-back rate (of customers churned at from_date, the share who bought again by to_date) and new-to-repeat conversion (of customers new at from_date, the share with two or more purchase days at to_date), with their counts';

CREATE FUNCTION lifecycle.stage_metrics(
  orders regclass, customer_column text, time_column text, amount_column text,
  as_of date, time_zone text DEFAULT 'UTC',
  active_days integer DEFAULT 90, dormant_days integer DEFAULT 180, churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0, cadence_min_days integer DEFAULT 30)
  RETURNS TABLE (stage lifecycle.stage, customers bigint, share numeric, revenue numeric)
  LANGUAGE sql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT c.to_stage, count(*), count(*)::numeric / sum(count(*)) OVER (),
         sum((c.to_summary).monetary)
    FROM lifecycle.customer_stages(orders, customer_column, time_column, amount_column,
                                   as_of, as_of, time_zone, active_days, dormant_days,
                                   churn_days, cadence_factor, cadence_min_days) c
   GROUP BY c.to_stage
   ORDER BY c.to_stage;
END;
COMMENT ON FUNCTION lifecycle.stage_metrics(regclass, text, text, text, date, text, integer, integer, integer, double precision, integer) IS
  'Customers per lifecycle stage at as_of: count, share of all customers, and their net revenue (all orders up to as_of)';

CREATE TYPE lifecycle.segment_summary AS (
  segment   text,
  customers bigint,
  share     numeric,
  orders    bigint,
  revenue   numeric
);
COMMENT ON TYPE lifecycle.segment_summary IS 'Customers, orders and revenue of one RFM segment';
COMMENT ON COLUMN lifecycle.segment_summary.segment IS 'Segment name (Others: no rule matched)';
COMMENT ON COLUMN lifecycle.segment_summary.customers IS 'Customers in the segment';
COMMENT ON COLUMN lifecycle.segment_summary.share IS 'customers / all scored customers';
COMMENT ON COLUMN lifecycle.segment_summary.orders IS 'Their purchase rows up to the as-of date';
COMMENT ON COLUMN lifecycle.segment_summary.revenue IS 'Their net revenue up to the as-of date';

CREATE FUNCTION lifecycle.segment_metrics(
  orders regclass, customer_column text, time_column text, amount_column text,
  as_of date, method text DEFAULT 'quantile', rule_set text DEFAULT 'default',
  frequency text DEFAULT 'orders', time_zone text DEFAULT 'UTC')
  RETURNS SETOF lifecycle.segment_summary
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  f_expr text;
  scores text;
BEGIN
  IF as_of IS NULL THEN
    RAISE EXCEPTION 'as-of date must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM lifecycle.check_rule_set(rule_set);
  f_expr := CASE frequency WHEN 'orders' THEN '(c.s).orders' WHEN 'purchase_days' THEN '(c.s).purchase_days' END;
  IF f_expr IS NULL THEN
    RAISE EXCEPTION 'frequency "%" not recognized', frequency
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use ''orders'' (purchase rows) or ''purchase_days'' (distinct days with a purchase).';
  END IF;
  IF method = 'ntile' THEN
    scores := format($q$
      SELECT c.s,
             ntile(5) OVER (ORDER BY lifecycle.days_since_last_order(c.s, $1) DESC, c.customer) AS r,
             ntile(5) OVER (ORDER BY %1$s, c.customer) AS f,
             ntile(5) OVER (ORDER BY (c.s).monetary, c.customer) AS m
        FROM scored c$q$, f_expr);
  ELSIF method IN ('quantile', 'rfm_r') THEN
    scores := format($q$
      SELECT c.s,
             lifecycle.r_score(lifecycle.days_since_last_order(c.s, $1), b.breaks) AS r,
             lifecycle.f_score(%1$s, b.breaks) AS f,
             lifecycle.m_score((c.s).monetary, b.breaks) AS m
        FROM scored c,
             (SELECT lifecycle.rfm_breaks(lifecycle.days_since_last_order(c.s, $1), %1$s,
                                          (c.s).monetary, $2) AS breaks
                FROM scored c) b$q$, f_expr);
  ELSE
    RAISE EXCEPTION 'RFM scoring method "%" not recognized', method
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use ''quantile'', ''rfm_r'' or ''ntile''.';
  END IF;
  RETURN QUERY EXECUTE format($q$
    WITH scored AS MATERIALIZED (
      SELECT c.customer, c.s
        FROM (SELECT o.customer, lifecycle.rfm_agg(o.day, o.amount) AS s FROM (%s) o GROUP BY o.customer) c
       WHERE (c.s).purchase_days > 0)
    SELECT map.segment, count(*), count(*)::numeric / sum(count(*)) OVER (),
           sum((x.s).orders)::bigint, sum((x.s).monetary)
      FROM (%s) x
      JOIN lifecycle.segment_map($3) map ON map.r = x.r AND map.f = x.f AND map.m = x.m
     GROUP BY map.segment
     ORDER BY count(*) DESC, map.segment
    $q$, lifecycle.orders_sql(orders, customer_column, time_column, amount_column,
                               time_zone, NULL, as_of + 1), scores)
    USING as_of, method, rule_set;
END
$$;
COMMENT ON FUNCTION lifecycle.segment_metrics(regclass, text, text, text, date, text, text, text, text) IS
  'Customers, share, orders and net revenue per RFM segment at as_of, scoring every customer with a purchase by method (quantile, rfm_r, ntile) and naming segments by rule_set; frequency counts orders or purchase_days';
-- Purchase-prediction models (PRODUCT.md section 6): BG/NBD, MBG/NBD and
-- Gamma-Gamma, fitted by maximum likelihood in aggregates, and the
-- per-customer predictions made from a fit.  Times (recency, T, horizons,
-- period lengths) are in the time unit of the fit's input, e.g. weeks from
-- lifecycle.btyd(summary, as_of, 'week'), and parameters are in that unit.

-- The fit results.
CREATE TYPE lifecycle.bgnbd AS (
  r              double precision,
  alpha          double precision,
  a              double precision,
  b              double precision,
  r_se           double precision,
  alpha_se       double precision,
  a_se           double precision,
  b_se           double precision,
  log_likelihood double precision,
  customers      double precision,
  converged      boolean,
  iterations     integer,
  message        text
);
COMMENT ON TYPE lifecycle.bgnbd IS
  'A BG/NBD purchase model (Fader, Hardie & Lee 2005): a fit by lifecycle.bgnbd_fit or given parameters';
COMMENT ON COLUMN lifecycle.bgnbd.r IS 'Shape of the Gamma distribution of purchase rates across customers';
COMMENT ON COLUMN lifecycle.bgnbd.alpha IS 'Scale of the Gamma distribution of purchase rates, in the time unit of the input (mean rate r/alpha)';
COMMENT ON COLUMN lifecycle.bgnbd.a IS 'First shape of the Beta distribution of drop-out probabilities after a purchase';
COMMENT ON COLUMN lifecycle.bgnbd.b IS 'Second shape of the Beta distribution of drop-out probabilities (mean a/(a+b))';
COMMENT ON COLUMN lifecycle.bgnbd.r_se IS 'Standard error of r (inverse observed information); NULL if unavailable';
COMMENT ON COLUMN lifecycle.bgnbd.alpha_se IS 'Standard error of alpha';
COMMENT ON COLUMN lifecycle.bgnbd.a_se IS 'Standard error of a';
COMMENT ON COLUMN lifecycle.bgnbd.b_se IS 'Standard error of b';
COMMENT ON COLUMN lifecycle.bgnbd.log_likelihood IS 'Log-likelihood at the estimate (all terms, natural log); NULL unless converged';
COMMENT ON COLUMN lifecycle.bgnbd.customers IS 'Customers the fit saw: the sum of the row weights';
COMMENT ON COLUMN lifecycle.bgnbd.converged IS 'True if the fit reached a well-determined maximum; predictions need it';
COMMENT ON COLUMN lifecycle.bgnbd.iterations IS 'Newton iterations the fit took';
COMMENT ON COLUMN lifecycle.bgnbd.message IS 'converged, or why there is no estimate';

CREATE TYPE lifecycle.mbgnbd AS (
  r              double precision,
  alpha          double precision,
  a              double precision,
  b              double precision,
  r_se           double precision,
  alpha_se       double precision,
  a_se           double precision,
  b_se           double precision,
  log_likelihood double precision,
  customers      double precision,
  converged      boolean,
  iterations     integer,
  message        text
);
COMMENT ON TYPE lifecycle.mbgnbd IS
  'An MBG/NBD purchase model (Batislam, Denizel & Filiztekin 2007): like BG/NBD, but a customer may also drop out right after the first purchase';
COMMENT ON COLUMN lifecycle.mbgnbd.r IS 'Shape of the Gamma distribution of purchase rates across customers';
COMMENT ON COLUMN lifecycle.mbgnbd.alpha IS 'Scale of the Gamma distribution of purchase rates, in the time unit of the input (mean rate r/alpha)';
COMMENT ON COLUMN lifecycle.mbgnbd.a IS 'First shape of the Beta distribution of drop-out probabilities after a purchase';
COMMENT ON COLUMN lifecycle.mbgnbd.b IS 'Second shape of the Beta distribution of drop-out probabilities (mean a/(a+b))';
COMMENT ON COLUMN lifecycle.mbgnbd.r_se IS 'Standard error of r (inverse observed information); NULL if unavailable';
COMMENT ON COLUMN lifecycle.mbgnbd.alpha_se IS 'Standard error of alpha';
COMMENT ON COLUMN lifecycle.mbgnbd.a_se IS 'Standard error of a';
COMMENT ON COLUMN lifecycle.mbgnbd.b_se IS 'Standard error of b';
COMMENT ON COLUMN lifecycle.mbgnbd.log_likelihood IS 'Log-likelihood at the estimate (all terms, natural log); NULL unless converged';
COMMENT ON COLUMN lifecycle.mbgnbd.customers IS 'Customers the fit saw: the sum of the row weights';
COMMENT ON COLUMN lifecycle.mbgnbd.converged IS 'True if the fit reached a well-determined maximum; predictions need it';
COMMENT ON COLUMN lifecycle.mbgnbd.iterations IS 'Newton iterations the fit took';
COMMENT ON COLUMN lifecycle.mbgnbd.message IS 'converged, or why there is no estimate';

CREATE TYPE lifecycle.gammagamma AS (
  p              double precision,
  q              double precision,
  gamma          double precision,
  p_se           double precision,
  q_se           double precision,
  gamma_se       double precision,
  log_likelihood double precision,
  customers      double precision,
  converged      boolean,
  iterations     integer,
  message        text
);
COMMENT ON TYPE lifecycle.gammagamma IS
  'A Gamma-Gamma spend model (Fader, Hardie & Lee 2005): a fit by lifecycle.gammagamma_fit or given parameters';
COMMENT ON COLUMN lifecycle.gammagamma.p IS 'Shape of the Gamma distribution of one purchase''s value for a customer';
COMMENT ON COLUMN lifecycle.gammagamma.q IS 'Shape of the Gamma distribution of that distribution''s rate across customers';
COMMENT ON COLUMN lifecycle.gammagamma.gamma IS 'Scale of the Gamma distribution of rates, in money (mean spend p gamma/(q-1))';
COMMENT ON COLUMN lifecycle.gammagamma.p_se IS 'Standard error of p (inverse observed information); NULL if unavailable';
COMMENT ON COLUMN lifecycle.gammagamma.q_se IS 'Standard error of q';
COMMENT ON COLUMN lifecycle.gammagamma.gamma_se IS 'Standard error of gamma';
COMMENT ON COLUMN lifecycle.gammagamma.log_likelihood IS 'Log-likelihood of the mean spends at the estimate (all terms); NULL unless converged';
COMMENT ON COLUMN lifecycle.gammagamma.customers IS 'Customers with repeat purchases the fit saw: the sum of their row weights';
COMMENT ON COLUMN lifecycle.gammagamma.converged IS 'True if the fit reached a well-determined maximum; predictions need it';
COMMENT ON COLUMN lifecycle.gammagamma.iterations IS 'Newton iterations the fit took';
COMMENT ON COLUMN lifecycle.gammagamma.message IS 'converged, or why there is no estimate';

-- Models from given parameters (published, or stored from an earlier fit).
CREATE FUNCTION lifecycle.bgnbd_model(r double precision, alpha double precision,
                                      a double precision, b double precision)
  RETURNS lifecycle.bgnbd LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'model_given';
COMMENT ON FUNCTION lifecycle.bgnbd_model(double precision, double precision, double precision, double precision) IS
  'A BG/NBD model with the given parameters (r, alpha, a, b), usable for predictions';
CREATE FUNCTION lifecycle.mbgnbd_model(r double precision, alpha double precision,
                                       a double precision, b double precision)
  RETURNS lifecycle.mbgnbd LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'model_given';
COMMENT ON FUNCTION lifecycle.mbgnbd_model(double precision, double precision, double precision, double precision) IS
  'An MBG/NBD model with the given parameters (r, alpha, a, b), usable for predictions';
CREATE FUNCTION lifecycle.gammagamma_model(p double precision, q double precision, gamma double precision)
  RETURNS lifecycle.gammagamma LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'model_given';
COMMENT ON FUNCTION lifecycle.gammagamma_model(double precision, double precision, double precision) IS
  'A Gamma-Gamma model with the given parameters (p, q, gamma), usable for predictions';

-- The fitting aggregates: shared state of distinct rows with weights.
CREATE FUNCTION lifecycle.model_purchase_rows_trans(internal, double precision, double precision, double precision)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_purchase_rows_trans';
CREATE FUNCTION lifecycle.model_purchase_rows_trans(internal, double precision, double precision, double precision, double precision)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_purchase_rows_trans';
CREATE FUNCTION lifecycle.model_spend_rows_trans(internal, double precision, double precision)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_spend_rows_trans';
CREATE FUNCTION lifecycle.model_spend_rows_trans(internal, double precision, double precision, double precision)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_spend_rows_trans';
CREATE FUNCTION lifecycle.model_rows_combine(internal, internal)
  RETURNS internal LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_rows_combine';
CREATE FUNCTION lifecycle.model_rows_serialize(internal)
  RETURNS bytea LANGUAGE c PARALLEL SAFE STRICT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_rows_serialize';
CREATE FUNCTION lifecycle.model_rows_deserialize(bytea, internal)
  RETURNS internal LANGUAGE c PARALLEL SAFE STRICT IMMUTABLE
  AS 'MODULE_PATHNAME', 'model_rows_deserialize';
CREATE FUNCTION lifecycle.bgnbd_fit_final(internal)
  RETURNS lifecycle.bgnbd LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'bgnbd_fit_final';
CREATE FUNCTION lifecycle.mbgnbd_fit_final(internal)
  RETURNS lifecycle.mbgnbd LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'mbgnbd_fit_final';
CREATE FUNCTION lifecycle.gammagamma_fit_final(internal)
  RETURNS lifecycle.gammagamma LANGUAGE c PARALLEL SAFE CALLED ON NULL INPUT IMMUTABLE
  AS 'MODULE_PATHNAME', 'gammagamma_fit_final';

COMMENT ON FUNCTION lifecycle.model_purchase_rows_trans(internal, double precision, double precision, double precision) IS
  'bgnbd_fit/mbgnbd_fit transition: add a (frequency, recency, T) row';
COMMENT ON FUNCTION lifecycle.model_purchase_rows_trans(internal, double precision, double precision, double precision, double precision) IS
  'bgnbd_fit/mbgnbd_fit transition: add a weighted (frequency, recency, T) row';
COMMENT ON FUNCTION lifecycle.model_spend_rows_trans(internal, double precision, double precision) IS
  'gammagamma_fit transition: add a (frequency, monetary_value) row';
COMMENT ON FUNCTION lifecycle.model_spend_rows_trans(internal, double precision, double precision, double precision) IS
  'gammagamma_fit transition: add a weighted (frequency, monetary_value) row';
COMMENT ON FUNCTION lifecycle.model_rows_combine(internal, internal) IS 'Model fits: merge two partial states (parallel query)';
COMMENT ON FUNCTION lifecycle.model_rows_serialize(internal) IS 'Model fits: portable, versioned serialization of a state';
COMMENT ON FUNCTION lifecycle.model_rows_deserialize(bytea, internal) IS 'Model fits: read a serialized state, validating it';
COMMENT ON FUNCTION lifecycle.bgnbd_fit_final(internal) IS 'bgnbd_fit: maximum-likelihood BG/NBD fit of the rows';
COMMENT ON FUNCTION lifecycle.mbgnbd_fit_final(internal) IS 'mbgnbd_fit: maximum-likelihood MBG/NBD fit of the rows';
COMMENT ON FUNCTION lifecycle.gammagamma_fit_final(internal) IS 'gammagamma_fit: maximum-likelihood Gamma-Gamma fit of the rows';

CREATE AGGREGATE lifecycle.bgnbd_fit(frequency double precision, recency double precision, t double precision) (
  SFUNC = lifecycle.model_purchase_rows_trans, STYPE = internal,
  FINALFUNC = lifecycle.bgnbd_fit_final,
  COMBINEFUNC = lifecycle.model_rows_combine,
  SERIALFUNC = lifecycle.model_rows_serialize, DESERIALFUNC = lifecycle.model_rows_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.bgnbd_fit(frequency double precision, recency double precision, t double precision,
                                     weight double precision) (
  SFUNC = lifecycle.model_purchase_rows_trans, STYPE = internal,
  FINALFUNC = lifecycle.bgnbd_fit_final,
  COMBINEFUNC = lifecycle.model_rows_combine,
  SERIALFUNC = lifecycle.model_rows_serialize, DESERIALFUNC = lifecycle.model_rows_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.mbgnbd_fit(frequency double precision, recency double precision, t double precision) (
  SFUNC = lifecycle.model_purchase_rows_trans, STYPE = internal,
  FINALFUNC = lifecycle.mbgnbd_fit_final,
  COMBINEFUNC = lifecycle.model_rows_combine,
  SERIALFUNC = lifecycle.model_rows_serialize, DESERIALFUNC = lifecycle.model_rows_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.mbgnbd_fit(frequency double precision, recency double precision, t double precision,
                                      weight double precision) (
  SFUNC = lifecycle.model_purchase_rows_trans, STYPE = internal,
  FINALFUNC = lifecycle.mbgnbd_fit_final,
  COMBINEFUNC = lifecycle.model_rows_combine,
  SERIALFUNC = lifecycle.model_rows_serialize, DESERIALFUNC = lifecycle.model_rows_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.gammagamma_fit(frequency double precision, monetary_value double precision) (
  SFUNC = lifecycle.model_spend_rows_trans, STYPE = internal,
  FINALFUNC = lifecycle.gammagamma_fit_final,
  COMBINEFUNC = lifecycle.model_rows_combine,
  SERIALFUNC = lifecycle.model_rows_serialize, DESERIALFUNC = lifecycle.model_rows_deserialize,
  PARALLEL = SAFE
);
CREATE AGGREGATE lifecycle.gammagamma_fit(frequency double precision, monetary_value double precision,
                                          weight double precision) (
  SFUNC = lifecycle.model_spend_rows_trans, STYPE = internal,
  FINALFUNC = lifecycle.gammagamma_fit_final,
  COMBINEFUNC = lifecycle.model_rows_combine,
  SERIALFUNC = lifecycle.model_rows_serialize, DESERIALFUNC = lifecycle.model_rows_deserialize,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE lifecycle.bgnbd_fit(double precision, double precision, double precision) IS
  'Fit a BG/NBD model by maximum likelihood to customers'' (frequency, recency, T); rows with a NULL are left out';
COMMENT ON AGGREGATE lifecycle.bgnbd_fit(double precision, double precision, double precision, double precision) IS
  'Fit a BG/NBD model to (frequency, recency, T) rows, each standing for weight customers';
COMMENT ON AGGREGATE lifecycle.mbgnbd_fit(double precision, double precision, double precision) IS
  'Fit an MBG/NBD model by maximum likelihood to customers'' (frequency, recency, T); rows with a NULL are left out';
COMMENT ON AGGREGATE lifecycle.mbgnbd_fit(double precision, double precision, double precision, double precision) IS
  'Fit an MBG/NBD model to (frequency, recency, T) rows, each standing for weight customers';
COMMENT ON AGGREGATE lifecycle.gammagamma_fit(double precision, double precision) IS
  'Fit a Gamma-Gamma spend model to customers'' (frequency, monetary_value); customers with frequency 0 are left out';
COMMENT ON AGGREGATE lifecycle.gammagamma_fit(double precision, double precision, double precision) IS
  'Fit a Gamma-Gamma spend model to (frequency, monetary_value) rows, each standing for weight customers';

-- Per-customer predictions.
CREATE FUNCTION lifecycle.p_alive(model lifecycle.bgnbd, frequency double precision,
                                  recency double precision, t double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'bgnbd_p_alive';
COMMENT ON FUNCTION lifecycle.p_alive(lifecycle.bgnbd, double precision, double precision, double precision) IS
  'Probability that a customer with this history is still active (BG/NBD); 1 without repeat purchases';
CREATE FUNCTION lifecycle.p_alive(model lifecycle.mbgnbd, frequency double precision,
                                  recency double precision, t double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'mbgnbd_p_alive';
COMMENT ON FUNCTION lifecycle.p_alive(lifecycle.mbgnbd, double precision, double precision, double precision) IS
  'Probability that a customer with this history is still active (MBG/NBD)';

CREATE FUNCTION lifecycle.expected_purchases(model lifecycle.bgnbd, frequency double precision,
                                             recency double precision, t double precision,
                                             horizon double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'bgnbd_expected_purchases_sql';
COMMENT ON FUNCTION lifecycle.expected_purchases(lifecycle.bgnbd, double precision, double precision, double precision, double precision) IS
  'Expected purchases of a customer with this history in the next horizon time units (BG/NBD); (0, 0, 0) is a new customer';
CREATE FUNCTION lifecycle.expected_purchases(model lifecycle.mbgnbd, frequency double precision,
                                             recency double precision, t double precision,
                                             horizon double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'mbgnbd_expected_purchases_sql';
COMMENT ON FUNCTION lifecycle.expected_purchases(lifecycle.mbgnbd, double precision, double precision, double precision, double precision) IS
  'Expected purchases of a customer with this history in the next horizon time units (MBG/NBD); (0, 0, 0) is a new customer';

CREATE FUNCTION lifecycle.expected_spend(model lifecycle.gammagamma, frequency double precision,
                                         monetary_value double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'gammagamma_expected_spend_sql';
COMMENT ON FUNCTION lifecycle.expected_spend(lifecycle.gammagamma, double precision, double precision) IS
  'Expected value of a future purchase of a customer with this history (Gamma-Gamma); the population mean without repeat purchases';

CREATE FUNCTION lifecycle.clv(purchases lifecycle.bgnbd, spend lifecycle.gammagamma,
                              frequency double precision, recency double precision, t double precision,
                              monetary_value double precision, periods integer,
                              period_length double precision, discount_rate double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'bgnbd_clv';
COMMENT ON FUNCTION lifecycle.clv(lifecycle.bgnbd, lifecycle.gammagamma, double precision, double precision, double precision, double precision, integer, double precision, double precision) IS
  'Customer lifetime value: expected spend in each of periods periods of period_length time units, discounted by (1 + discount_rate) per period (BG/NBD purchases)';
CREATE FUNCTION lifecycle.clv(purchases lifecycle.mbgnbd, spend lifecycle.gammagamma,
                              frequency double precision, recency double precision, t double precision,
                              monetary_value double precision, periods integer,
                              period_length double precision, discount_rate double precision)
  RETURNS double precision LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'mbgnbd_clv';
COMMENT ON FUNCTION lifecycle.clv(lifecycle.mbgnbd, lifecycle.gammagamma, double precision, double precision, double precision, double precision, integer, double precision, double precision) IS
  'Customer lifetime value: expected spend in each of periods periods of period_length time units, discounted by (1 + discount_rate) per period (MBG/NBD purchases)';
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
