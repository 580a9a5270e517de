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
  PERFORM lifecycle.local_day(now(), time_zone);   -- an unknown zone fails here
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
    -- Days in the extension's one calendar (install/05_calendar.sql); the
    -- bounds are instants, so that an index on the column narrows the scan.
    day_expr := format('lifecycle.local_day(%s, %L)', t, time_zone);
    IF from_day IS NOT NULL THEN
      conds := conds || format('%s >= lifecycle.day_start(%L, %L)', t, from_day, time_zone);
    END IF;
    IF to_day IS NOT NULL THEN
      conds := conds || format('%s < lifecycle.day_start(%L, %L)', t, to_day, time_zone);
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

-- Units, the same in every result BI reads: shares and rates are percent,
-- named *_pct, numeric(5,2); averages (orders per customer, money per order
-- or customer) are rounded to cents, numeric(38,2), the widest decimal that
-- BI tools and ODBC clients take (an average of 10^36 or more is an error);
-- money totals are exact sums and stay unconstrained numeric.
CREATE FUNCTION lifecycle._percent(part numeric, whole numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT pg_catalog.round(100.0 OPERATOR(pg_catalog.*) part OPERATOR(pg_catalog./) NULLIF(whole, 0), 2);
END;
COMMENT ON FUNCTION lifecycle._percent(numeric, numeric) IS
  'Internal: part / whole in percent, rounded to 2 decimals; NULL when whole is 0';

CREATE TYPE lifecycle.retention AS (
  customers                bigint,
  orders                   bigint,
  revenue                  numeric,
  repeat_customers         bigint,
  repeat_purchase_rate_pct numeric(5,2),
  purchase_frequency       numeric(38,2),
  aov                      numeric(38,2),
  customer_value           numeric(38,2),
  refunds                  bigint,
  refunded                 numeric,
  net_revenue              numeric
);
COMMENT ON TYPE lifecycle.retention IS 'A store''s retention metrics over a period';
COMMENT ON COLUMN lifecycle.retention.customers IS 'Distinct customers with at least one purchase in the period';
COMMENT ON COLUMN lifecycle.retention.orders IS 'Purchase rows in the period (amount >= 0 or unknown)';
COMMENT ON COLUMN lifecycle.retention.revenue IS 'Value of the purchases in the period, before refunds';
COMMENT ON COLUMN lifecycle.retention.repeat_customers IS 'Customers with two or more orders in the period';
COMMENT ON COLUMN lifecycle.retention.repeat_purchase_rate_pct IS 'repeat_customers / customers, in percent (2 decimals)';
COMMENT ON COLUMN lifecycle.retention.purchase_frequency IS 'orders / customers (2 decimals)';
COMMENT ON COLUMN lifecycle.retention.aov IS 'Average order value: revenue / orders (2 decimals)';
COMMENT ON COLUMN lifecycle.retention.customer_value IS 'purchase_frequency x aov, computed as revenue / customers (2 decimals)';
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
         lifecycle._percent(repeat_customers, customers),
         pg_catalog.round(orders::numeric OPERATOR(pg_catalog./) NULLIF(customers, 0), 2),
         pg_catalog.round(revenue OPERATOR(pg_catalog./) NULLIF(orders, 0), 2),
         pg_catalog.round(revenue OPERATOR(pg_catalog./) NULLIF(customers, 0), 2),
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

-- One row per customer: their stage at two as-of dates and what it rests
-- on, in plain columns (BI tools read a composite as one text blob).
CREATE TYPE lifecycle.customer_transition AS (
  customer            text,
  from_stage          lifecycle.stage,
  to_stage            lifecycle.stage,
  from_first_purchase date,
  from_last_purchase  date,
  from_orders         bigint,
  from_purchase_days  integer,
  from_monetary       numeric,
  to_first_purchase   date,
  to_last_purchase    date,
  to_orders           bigint,
  to_purchase_days    integer,
  to_monetary         numeric
);
COMMENT ON TYPE lifecycle.customer_transition IS
  'One customer''s stage at two as-of dates, with the summary each rests on (lifecycle.customer_stages)';
COMMENT ON COLUMN lifecycle.customer_transition.customer IS 'Customer key, as text';
COMMENT ON COLUMN lifecycle.customer_transition.from_stage IS 'Stage at from_date (prospect: no order by then)';
COMMENT ON COLUMN lifecycle.customer_transition.to_stage IS 'Stage at to_date';
COMMENT ON COLUMN lifecycle.customer_transition.from_first_purchase IS 'First purchase day up to from_date; NULL without one';
COMMENT ON COLUMN lifecycle.customer_transition.from_last_purchase IS 'Last purchase day up to from_date; NULL without one';
COMMENT ON COLUMN lifecycle.customer_transition.from_orders IS 'Purchase rows up to from_date';
COMMENT ON COLUMN lifecycle.customer_transition.from_purchase_days IS 'Distinct purchase days up to from_date';
COMMENT ON COLUMN lifecycle.customer_transition.from_monetary IS 'Net revenue (purchases minus refunds) up to from_date';
COMMENT ON COLUMN lifecycle.customer_transition.to_first_purchase IS 'First purchase day up to to_date; NULL without one';
COMMENT ON COLUMN lifecycle.customer_transition.to_last_purchase IS 'Last purchase day up to to_date; NULL without one';
COMMENT ON COLUMN lifecycle.customer_transition.to_orders IS 'Purchase rows up to to_date';
COMMENT ON COLUMN lifecycle.customer_transition.to_purchase_days IS 'Distinct purchase days up to to_date';
COMMENT ON COLUMN lifecycle.customer_transition.to_monetary IS 'Net revenue (purchases minus refunds) up to to_date';

CREATE FUNCTION lifecycle.customer_stages(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_date date, to_date date, time_zone text DEFAULT 'UTC',
  active_days integer DEFAULT 90, dormant_days integer DEFAULT 180, churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0, cadence_min_days integer DEFAULT 30)
  RETURNS SETOF lifecycle.customer_transition
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
           (c.s_from).first_purchase, (c.s_from).last_purchase, coalesce((c.s_from).orders, 0),
           coalesce((c.s_from).purchase_days, 0), coalesce((c.s_from).monetary, 0),
           (c.s_to).first_purchase, (c.s_to).last_purchase, (c.s_to).orders,
           (c.s_to).purchase_days, (c.s_to).monetary
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
  'Every customer with an order up to to_date: stage, purchase days, orders and net revenue at from_date and at to_date, in plain columns (orders on the as-of day count); a customer with no order by from_date is a prospect then';

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

CREATE TYPE lifecycle.transition_rates AS (
  churn_base             bigint,
  churned                bigint,
  churn_rate_pct         numeric(5,2),
  win_back_base          bigint,
  won_back               bigint,
  win_back_rate_pct      numeric(5,2),
  new_base               bigint,
  converted              bigint,
  new_to_repeat_rate_pct numeric(5,2)
);
COMMENT ON TYPE lifecycle.transition_rates IS 'Churn, win-back and new-to-repeat rates between two as-of dates, with their counts';
COMMENT ON COLUMN lifecycle.transition_rates.churn_base IS 'Customers neither prospect nor churned at from_date';
COMMENT ON COLUMN lifecycle.transition_rates.churned IS 'Of them, customers churned at to_date';
COMMENT ON COLUMN lifecycle.transition_rates.churn_rate_pct IS 'churned / churn_base, in percent (2 decimals)';
COMMENT ON COLUMN lifecycle.transition_rates.win_back_base IS 'Customers churned at from_date';
COMMENT ON COLUMN lifecycle.transition_rates.won_back IS 'Of them, customers who bought again after from_date, by to_date';
COMMENT ON COLUMN lifecycle.transition_rates.win_back_rate_pct IS 'won_back / win_back_base, in percent (2 decimals)';
COMMENT ON COLUMN lifecycle.transition_rates.new_base IS 'Customers new (one purchase day) at from_date';
COMMENT ON COLUMN lifecycle.transition_rates.converted IS 'Of them, customers with two or more purchase days at to_date';
COMMENT ON COLUMN lifecycle.transition_rates.new_to_repeat_rate_pct IS 'converted / new_base, in percent (2 decimals)';

CREATE FUNCTION lifecycle.transition_rates(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_date date, to_date date, time_zone text DEFAULT 'UTC',
  active_days integer DEFAULT 90, dormant_days integer DEFAULT 180, churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0, cadence_min_days integer DEFAULT 30)
  RETURNS lifecycle.transition_rates
  LANGUAGE sql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT k.churn_base, k.churned, lifecycle._percent(k.churned, k.churn_base),
         k.win_back_base, k.won_back, lifecycle._percent(k.won_back, k.win_back_base),
         k.new_base, k.converted, lifecycle._percent(k.converted, k.new_base)
    FROM (SELECT count(*) FILTER (WHERE c.from_stage NOT IN ('prospect', 'churned')) AS churn_base,
                 count(*) FILTER (WHERE c.from_stage NOT IN ('prospect', 'churned')
                                    AND c.to_stage = 'churned') AS churned,
                 count(*) FILTER (WHERE c.from_stage = 'churned') AS win_back_base,
                 count(*) FILTER (WHERE c.from_stage = 'churned'
                                    AND c.to_last_purchase > from_date) AS won_back,
                 count(*) FILTER (WHERE c.from_stage = 'new') AS new_base,
                 count(*) FILTER (WHERE c.from_stage = 'new'
                                    AND c.to_purchase_days >= 2) AS converted
            FROM lifecycle.customer_stages(orders, customer_column, time_column, amount_column,
                                           from_date, to_date, time_zone, active_days, dormant_days,
                                           churn_days, cadence_factor, cadence_min_days) c) k;
END;
COMMENT ON FUNCTION lifecycle.transition_rates(regclass, text, text, text, date, date, text, integer, integer, integer, double precision, integer) IS
  'Churn rate (of customers neither prospect nor churned at from_date, the share churned at to_date), win-back rate (of customers churned at from_date, the share who bought again by to_date) and new-to-repeat conversion (of customers new at from_date, the share with two or more purchase days at to_date), in percent, with their counts';

CREATE TYPE lifecycle.stage_summary AS (
  stage     lifecycle.stage,
  customers bigint,
  share_pct numeric(5,2),
  revenue   numeric
);
COMMENT ON TYPE lifecycle.stage_summary IS 'Customers and revenue of one lifecycle stage';
COMMENT ON COLUMN lifecycle.stage_summary.stage IS 'Lifecycle stage';
COMMENT ON COLUMN lifecycle.stage_summary.customers IS 'Customers in the stage';
COMMENT ON COLUMN lifecycle.stage_summary.share_pct IS 'customers / all customers, in percent (2 decimals)';
COMMENT ON COLUMN lifecycle.stage_summary.revenue IS 'Their net revenue up to the as-of date';

CREATE FUNCTION lifecycle.stage_metrics(
  orders regclass, customer_column text, time_column text, amount_column text,
  as_of date, time_zone text DEFAULT 'UTC',
  active_days integer DEFAULT 90, dormant_days integer DEFAULT 180, churn_days integer DEFAULT 270,
  cadence_factor double precision DEFAULT 3.0, cadence_min_days integer DEFAULT 30)
  RETURNS SETOF lifecycle.stage_summary
  LANGUAGE sql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT c.to_stage, count(*), lifecycle._percent(count(*), sum(count(*)) OVER ()),
         sum(c.to_monetary)
    FROM lifecycle.customer_stages(orders, customer_column, time_column, amount_column,
                                   as_of, as_of, time_zone, active_days, dormant_days,
                                   churn_days, cadence_factor, cadence_min_days) c
   GROUP BY c.to_stage
   ORDER BY c.to_stage;
END;
COMMENT ON FUNCTION lifecycle.stage_metrics(regclass, text, text, text, date, text, integer, integer, integer, double precision, integer) IS
  'Customers per lifecycle stage at as_of: count, share of all customers in percent, and their net revenue (all orders up to as_of)';

CREATE TYPE lifecycle.segment_summary AS (
  segment   text,
  customers bigint,
  share_pct numeric(5,2),
  orders    bigint,
  revenue   numeric
);
COMMENT ON TYPE lifecycle.segment_summary IS 'Customers, orders and revenue of one RFM segment';
COMMENT ON COLUMN lifecycle.segment_summary.segment IS 'Segment name (Others: no rule matched)';
COMMENT ON COLUMN lifecycle.segment_summary.customers IS 'Customers in the segment';
COMMENT ON COLUMN lifecycle.segment_summary.share_pct IS 'customers / all scored customers, in percent (2 decimals)';
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
  ELSIF method IN ('quantile', 'rfm_r', 'bands') THEN
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
            HINT = 'Use ''bands'', ''quantile'', ''rfm_r'' or ''ntile''.';
  END IF;
  RETURN QUERY EXECUTE format($q$
    WITH scored AS MATERIALIZED (
      SELECT c.customer, c.s
        FROM (SELECT o.customer, lifecycle.rfm_agg(o.day, o.amount) AS s FROM (%s) o GROUP BY o.customer) c
       WHERE (c.s).purchase_days > 0)
    SELECT map.segment, count(*), lifecycle._percent(count(*), sum(count(*)) OVER ())::numeric(5,2),
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
  'Customers, share, orders and net revenue per RFM segment at as_of, scoring every customer with a purchase by method (quantile, rfm_r, ntile, bands) and naming segments by rule_set; frequency counts orders or purchase_days';
