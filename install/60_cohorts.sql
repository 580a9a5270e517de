-- Cohorts and returning buyers (issues 12 and 15): the retention table by
-- first-purchase month, new and returning buyers of a period or of each
-- calendar month, and the seeds' figures (second purchase within N days,
-- purchase on the sign-up day) as one query each.  They read any orders
-- relation as the metrics do (lifecycle.orders_sql: names only through
-- regclass and format('%I'), days in one calendar), and follow the summary's
-- rules: amount >= 0 or NULL is a purchase, amount < 0 a refund (never
-- activity), NULL customer or time left out, NaN or infinite amounts an error.

-- Raise the error for an order row no figure can hold: a day without a
-- calendar date, or an amount that is NaN or infinite (the messages of
-- rfm_agg).  Called only for such rows, so it costs nothing on good data.
CREATE FUNCTION lifecycle._reject_order_row(day date, amount numeric)
  RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT isfinite(day) THEN
    RAISE EXCEPTION 'order time must be finite'
      USING ERRCODE = 'datetime_field_overflow',
            DETAIL = 'An order at -infinity or infinity has no calendar day.',
            HINT = 'Filter such rows out or set their order time to NULL to ignore them.';
  END IF;
  IF amount = 'NaN'::numeric THEN
    RAISE EXCEPTION 'order amount must not be NaN'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'A NaN amount would make every revenue figure NaN.',
            HINT = 'Set unknown amounts to NULL: the order still counts, its value does not.';
  END IF;
  IF amount IN ('Infinity'::numeric, '-Infinity'::numeric) THEN
    RAISE EXCEPTION 'order amount must be finite'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'An infinite amount would make every revenue figure infinite.',
            HINT = 'Set unknown amounts to NULL: the order still counts, its value does not.';
  END IF;
  RETURN true;
END
$$;
COMMENT ON FUNCTION lifecycle._reject_order_row(date, numeric) IS
  'Internal: raise the error for an order day that is not finite or an amount that is NaN or infinite (as rfm_agg does); true otherwise';

-- Reject a window of days (within_days, come_back_days) that is missing,
-- empty or longer than ten years.
CREATE FUNCTION lifecycle._check_window_days(argument text, days integer)
  RETURNS void LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF days IS NULL THEN
    RAISE EXCEPTION '% must not be NULL', argument
      USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass the number of days after the first purchase day, e.g. 180.';
  END IF;
  IF days NOT BETWEEN 1 AND 3650 THEN
    RAISE EXCEPTION '% must be between 1 and 3650 days', argument
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('Got %s.', days),
            HINT = 'A purchase on a later day counts when it falls within this many days of the first purchase day.';
  END IF;
END
$$;
COMMENT ON FUNCTION lifecycle._check_window_days(text, integer) IS
  'Internal: raise a clear error unless a window of days is given and between 1 and 3650 (ten years)';

-- Calendar months of a date, independent of the session's TimeZone (through
-- timestamp without time zone; date_trunc on a date would go through
-- timestamptz).
CREATE FUNCTION lifecycle._month_start(day date) RETURNS date
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN pg_catalog.date_trunc('month', day::pg_catalog.timestamp)::pg_catalog.date;
COMMENT ON FUNCTION lifecycle._month_start(date) IS
  'Internal: the first day of the calendar month of a day';

CREATE FUNCTION lifecycle._months_between(from_day date, to_day date) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN ((pg_catalog.date_part('year', to_day::pg_catalog.timestamp) OPERATOR(pg_catalog.-)
           pg_catalog.date_part('year', from_day::pg_catalog.timestamp)) OPERATOR(pg_catalog.*) 12
          OPERATOR(pg_catalog.+)
          (pg_catalog.date_part('month', to_day::pg_catalog.timestamp) OPERATOR(pg_catalog.-)
           pg_catalog.date_part('month', from_day::pg_catalog.timestamp)))::integer;
COMMENT ON FUNCTION lifecycle._months_between(date, date) IS
  'Internal: calendar months from the month of from_day to the month of to_day (0 within one month)';

-- Reject a month range that is missing, infinite or reversed (by month).
CREATE FUNCTION lifecycle._check_months(from_month date, to_month date)
  RETURNS void LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF isfinite(from_month) IS FALSE OR isfinite(to_month) IS FALSE THEN
    RAISE EXCEPTION 'months must be finite dates'
      USING ERRCODE = 'datetime_field_overflow';
  END IF;
  IF lifecycle._month_start(from_month) > lifecycle._month_start(to_month) THEN
    RAISE EXCEPTION 'month range starts after it ends: % > %',
                    lifecycle._month_start(from_month), lifecycle._month_start(to_month)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass the earlier month first; both months are included.';
  END IF;
END
$$;
COMMENT ON FUNCTION lifecycle._check_months(date, date) IS
  'Internal: raise a clear error unless the months (any day of each) are finite and from_month is not after to_month';

-- One row per customer and day (or month) with an order row, up to to_day
-- (NULL: all), with the customer's first purchase day over everything read.
-- The one place the cohort and returning-buyer figures take their facts from.
CREATE FUNCTION lifecycle._customer_days_sql(
  orders regclass, customer_column text, time_column text, amount_column text,
  time_zone text, to_day date, by_month boolean)
  RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN format($q$
    SELECT g.customer, g.day, g.orders, g.gross, g.net,
           min(g.first_day) OVER (PARTITION BY g.customer) AS first_day
      FROM (SELECT o.customer, %s AS day,
                   count(*) FILTER (WHERE o.amount >= 0 OR o.amount IS NULL) AS orders,
                   coalesce(sum(o.amount) FILTER (WHERE o.amount >= 0), 0) AS gross,
                   coalesce(sum(o.amount), 0) AS net,
                   min(o.day) FILTER (WHERE o.amount >= 0 OR o.amount IS NULL) AS first_day
              FROM (%s) o
             GROUP BY 1, 2) g
     WHERE CASE WHEN isfinite(g.day) AND g.net > '-Infinity'::numeric AND g.net < 'Infinity'::numeric
                THEN true ELSE lifecycle._reject_order_row(g.day, g.net) END$q$,
    CASE WHEN by_month THEN 'lifecycle._month_start(o.day)' ELSE 'o.day' END,
    lifecycle.orders_sql(orders, customer_column, time_column, amount_column, time_zone, NULL, to_day));
END
$$;
COMMENT ON FUNCTION lifecycle._customer_days_sql(regclass, text, text, text, text, date, boolean) IS
  'Internal: SQL text reading an orders relation before to_day (NULL: all) as one row per customer and day, or per customer and month (by_month: day is the first day of the month): purchase rows (orders), their value (gross), purchases minus refunds (net), and the customer''s first purchase day';

-- The rows of any relation as (customer, day) with from_day <= day < to_day,
-- for a customers relation's sign-up time or orders read without amounts:
-- the calendar of lifecycle.orders_sql (date and timestamp as they are,
-- timestamptz in time_zone).
CREATE FUNCTION lifecycle._key_days_sql(
  relation regclass, key_column text, time_column text, time_zone text, from_day date, to_day date)
  RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  SET datestyle = 'ISO, YMD'
AS $$
DECLARE
  col text;
  time_type regtype;
  t text := format('%I', time_column);
  day_expr text;
  low text;
  high text;
BEGIN
  IF relation IS NULL OR key_column IS NULL OR time_column IS NULL THEN
    RAISE EXCEPTION 'relation and column names must not be NULL'
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
  FOREACH col IN ARRAY ARRAY[key_column, time_column] LOOP
    IF NOT EXISTS (SELECT FROM pg_attribute a
                    WHERE a.attrelid = relation AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped) THEN
      RAISE EXCEPTION 'column "%" of relation % does not exist', col, relation
        USING ERRCODE = 'undefined_column';
    END IF;
  END LOOP;
  SELECT CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END::regtype INTO time_type
    FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
   WHERE a.attrelid = relation AND a.attname = time_column;
  CASE time_type
  WHEN 'date'::regtype THEN
    day_expr := t;
    low := format('%L::date', from_day);
    high := format('%L::date', to_day);
  WHEN 'timestamp without time zone'::regtype THEN
    day_expr := format('%s::date', t);
    low := format('%L::timestamp', from_day);
    high := format('%L::timestamp', to_day);
  WHEN 'timestamp with time zone'::regtype THEN
    day_expr := format('lifecycle.local_day(%s, %L)', t, time_zone);
    low := format('lifecycle.day_start(%L, %L)', from_day, time_zone);
    high := format('lifecycle.day_start(%L, %L)', to_day, time_zone);
  ELSE
    RAISE EXCEPTION 'time column "%" must be of type date, timestamp or timestamptz', time_column
      USING ERRCODE = 'datatype_mismatch',
            DETAIL = format('It is of type %s.', time_type);
  END CASE;
  IF from_day IS NULL THEN low := NULL; END IF;   -- a NULL bound is open
  IF to_day IS NULL THEN high := NULL; END IF;
  RETURN format('SELECT %I AS customer, %s AS day FROM %s WHERE %s',
                key_column, day_expr, relation,
                array_to_string(ARRAY[format('%I IS NOT NULL', key_column), format('%s IS NOT NULL', t),
                                      t || ' >= ' || low, t || ' < ' || high], ' AND '));
END
$$;
COMMENT ON FUNCTION lifecycle._key_days_sql(regclass, text, text, text, date, date) IS
  'Internal: SQL text reading a relation as (customer, day) rows with from_day <= day < to_day (NULL bound: open), days as lifecycle.orders_sql takes them (timestamptz in time_zone); rows without key or time are left out';

-- Cohorts: customers by the calendar month of their first purchase, and what
-- each cohort did in every month since.
CREATE TYPE lifecycle.cohort_cell AS (
  cohort_month     date,
  months_since     integer,
  cohort_customers bigint,
  active_customers bigint,
  retention_pct    numeric(5,2),
  revenue          numeric
);
COMMENT ON TYPE lifecycle.cohort_cell IS
  'One cell of a cohort retention table: a first-purchase month and a month since';
COMMENT ON COLUMN lifecycle.cohort_cell.cohort_month IS
  'First day of the calendar month of the cohort''s first purchase (in the time zone)';
COMMENT ON COLUMN lifecycle.cohort_cell.months_since IS
  'Calendar months after the cohort month: 0 is the cohort month itself';
COMMENT ON COLUMN lifecycle.cohort_cell.cohort_customers IS
  'Customers whose first purchase ever falls in the cohort month';
COMMENT ON COLUMN lifecycle.cohort_cell.active_customers IS
  'Customers of the cohort with a purchase in this month (refunds are not activity)';
COMMENT ON COLUMN lifecycle.cohort_cell.retention_pct IS
  'active_customers / cohort_customers, in percent (2 decimals); 100 in month 0';
COMMENT ON COLUMN lifecycle.cohort_cell.revenue IS
  'Net revenue of the cohort''s customers in this month: purchases minus refunds dated in it';

CREATE FUNCTION lifecycle.cohort_retention(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_month date, to_month date, time_zone text DEFAULT 'UTC')
  RETURNS SETOF lifecycle.cohort_cell
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  first_month date;
  last_month date;
  end_day date;
BEGIN
  PERFORM lifecycle.check_period(from_month, to_month);
  PERFORM lifecycle._check_months(from_month, to_month);
  first_month := lifecycle._month_start(from_month);
  last_month := lifecycle._month_start(to_month);
  end_day := (last_month + interval '1 month')::date;
  RETURN QUERY EXECUTE format($q$
    WITH all_cells AS (        -- one row per customer and month: count them
      SELECT CASE WHEN d.first_day >= $1 AND d.first_day < $2 AND d.day >= lifecycle._month_start(d.first_day)
                  THEN lifecycle._month_start(d.first_day) END AS cohort_month,  -- NULL: in no cohort asked
             lifecycle._months_between(d.first_day, d.day) AS months_since,
             count(*) FILTER (WHERE d.orders > 0) AS active_customers, sum(d.net) AS revenue
        FROM (%s) d
       GROUP BY 1, 2),
    cells AS (
      SELECT * FROM all_cells WHERE cohort_month IS NOT NULL)
    SELECT c0.cohort_month, k.months_since, c0.active_customers,
           coalesce(c.active_customers, 0),
           lifecycle._percent(coalesce(c.active_customers, 0), c0.active_customers)::numeric(5,2),
           coalesce(c.revenue, 0)
      FROM cells c0
     CROSS JOIN LATERAL generate_series(0, lifecycle._months_between(c0.cohort_month, $3)) AS k(months_since)
      LEFT JOIN cells c ON c.cohort_month = c0.cohort_month AND c.months_since = k.months_since
     WHERE c0.months_since = 0
     ORDER BY 1, 2
    $q$, lifecycle._customer_days_sql(orders, customer_column, time_column, amount_column,
                                       time_zone, end_day, true))
    USING first_month, end_day, last_month;
END
$$;
COMMENT ON FUNCTION lifecycle.cohort_retention(regclass, text, text, text, date, date, text) IS
  'Cohort retention table: for each calendar month from from_month to to_month (both included) in which customers made their first purchase, one row per month since (0 up to to_month) with the cohort''s customers, the active ones, retention in percent and net revenue; months in time_zone';

-- New and returning buyers of a period, and how many of the new ones came back.
CREATE TYPE lifecycle.buyer_mix AS (
  period_from          date,
  period_to            date,
  buyers               bigint,
  new_buyers           bigint,
  returning_buyers     bigint,
  new_buyers_pct       numeric(5,2),
  returning_buyers_pct numeric(5,2),
  new_orders           bigint,
  returning_orders     bigint,
  new_revenue          numeric,
  returning_revenue    numeric,
  come_back_days       integer,
  came_back            bigint,
  came_back_pct        numeric(5,2),
  come_back_pending    bigint
);
COMMENT ON TYPE lifecycle.buyer_mix IS
  'New and returning buyers of a period of days, with their orders and revenue, and how many of the new buyers bought again within come_back_days';
COMMENT ON COLUMN lifecycle.buyer_mix.period_from IS 'First day of the period';
COMMENT ON COLUMN lifecycle.buyer_mix.period_to IS 'The day after the period (the period is period_from <= day < period_to)';
COMMENT ON COLUMN lifecycle.buyer_mix.buyers IS 'Customers with a purchase in the period (new_buyers + returning_buyers)';
COMMENT ON COLUMN lifecycle.buyer_mix.new_buyers IS 'Buyers whose first purchase ever is in the period';
COMMENT ON COLUMN lifecycle.buyer_mix.returning_buyers IS 'Buyers who had bought before the period';
COMMENT ON COLUMN lifecycle.buyer_mix.new_buyers_pct IS 'new_buyers / buyers, in percent (2 decimals)';
COMMENT ON COLUMN lifecycle.buyer_mix.returning_buyers_pct IS 'returning_buyers / buyers, in percent (2 decimals)';
COMMENT ON COLUMN lifecycle.buyer_mix.new_orders IS 'Purchase rows of the new buyers in the period';
COMMENT ON COLUMN lifecycle.buyer_mix.returning_orders IS 'Purchase rows of the returning buyers in the period';
COMMENT ON COLUMN lifecycle.buyer_mix.new_revenue IS 'Value of the new buyers'' purchases in the period, before refunds';
COMMENT ON COLUMN lifecycle.buyer_mix.returning_revenue IS 'Value of the returning buyers'' purchases in the period, before refunds';
COMMENT ON COLUMN lifecycle.buyer_mix.come_back_days IS 'The come-back window: days after the first purchase day';
COMMENT ON COLUMN lifecycle.buyer_mix.came_back IS 'New buyers with a purchase on a later day within come_back_days of their first purchase day (counting orders after the period too)';
COMMENT ON COLUMN lifecycle.buyer_mix.came_back_pct IS 'came_back / new_buyers, in percent (2 decimals)';
COMMENT ON COLUMN lifecycle.buyer_mix.come_back_pending IS 'New buyers who have not come back and whose window ends after the last day of the data: they may still come back';

-- The work of buyer_mix and buyer_mix_monthly: one pass over the orders,
-- grouped by period (monthly = false: [from_day, to_day)) or by calendar
-- month (monthly = true; a NULL bound is the data's first or last month).
CREATE FUNCTION lifecycle._buyer_mix(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_day date, to_day date, time_zone text, come_back_days integer, monthly boolean)
  RETURNS SETOF lifecycle.buyer_mix
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  bucket text;      -- the period of a day (%1$s), NULL outside the periods asked
  periods text;     -- the periods asked, with their bounds
BEGIN
  IF isfinite(from_day) IS FALSE OR isfinite(to_day) IS FALSE THEN
    RAISE EXCEPTION 'period bounds must be finite dates'
      USING ERRCODE = 'datetime_field_overflow';
  END IF;
  IF monthly THEN
    bucket := 'CASE WHEN ($1 IS NULL OR %1$s >= $1) AND ($2 IS NULL OR %1$s < $2) THEN lifecycle._month_start(%1$s) END';
    periods := $p$
      SELECT (r.first_month + make_interval(months => k.k))::date,
             (r.first_month + make_interval(months => k.k + 1))::date
        FROM (SELECT coalesce($1, lifecycle._month_start(e.first_day)) AS first_month,
                     coalesce($2 - 1, e.last_day) AS last_day
                FROM data_end e) r,
             generate_series(0, lifecycle._months_between(r.first_month, r.last_day)) k(k)$p$;
  ELSE
    bucket := 'CASE WHEN %1$s >= $1 AND %1$s < $2 THEN $1 END';
    periods := 'SELECT $1, $2';
  END IF;
  RETURN QUERY EXECUTE format($q$
    WITH d AS MATERIALIZED (%1$s),
    period_buyers AS (      -- each buyer of each period
      SELECT %2$s AS period_from, min(d.first_day) AS first_day,
             sum(d.orders) AS orders, sum(d.gross) AS gross
        FROM d WHERE d.orders > 0 AND %2$s IS NOT NULL
       GROUP BY 1, d.customer),
    customers AS MATERIALIZED (   -- each customer's first purchase day, and whether they came back
      SELECT min(d.first_day) AS first_day, max(d.day) AS last_day,
             coalesce(bool_or(d.orders > 0 AND d.day > d.first_day AND d.day <= d.first_day + $3), false) AS came_back
        FROM d GROUP BY d.customer),
    data_end AS MATERIALIZED (
      SELECT min(c.first_day) AS first_day, max(c.last_day) AS last_day FROM customers c),
    mix AS (
      SELECT b.period_from, count(*) AS buyers,
             count(*) FILTER (WHERE b.first_day >= b.period_from) AS new_buyers,
             sum(b.orders) FILTER (WHERE b.first_day >= b.period_from) AS new_orders,
             sum(b.orders) FILTER (WHERE b.first_day < b.period_from) AS returning_orders,
             sum(b.gross) FILTER (WHERE b.first_day >= b.period_from) AS new_revenue,
             sum(b.gross) FILTER (WHERE b.first_day < b.period_from) AS returning_revenue
        FROM period_buyers b GROUP BY b.period_from),
    back AS (
      SELECT %3$s AS period_from, count(*) FILTER (WHERE c.came_back) AS came_back,
             count(*) FILTER (WHERE NOT c.came_back AND c.first_day + $3 > e.last_day) AS pending
        FROM customers c, data_end e WHERE %3$s IS NOT NULL GROUP BY 1),
    periods(period_from, period_to) AS (%4$s)
    SELECT p.period_from, p.period_to,
           coalesce(m.buyers, 0), coalesce(m.new_buyers, 0), coalesce(m.buyers - m.new_buyers, 0),
           lifecycle._percent(m.new_buyers, m.buyers)::numeric(5,2),
           lifecycle._percent(m.buyers - m.new_buyers, m.buyers)::numeric(5,2),
           coalesce(m.new_orders, 0)::bigint, coalesce(m.returning_orders, 0)::bigint,
           coalesce(m.new_revenue, 0), coalesce(m.returning_revenue, 0),
           $3, coalesce(k.came_back, 0),
           lifecycle._percent(k.came_back, m.new_buyers)::numeric(5,2),
           coalesce(k.pending, 0)
      FROM periods p
      LEFT JOIN mix m ON m.period_from = p.period_from
      LEFT JOIN back k ON k.period_from = p.period_from
     ORDER BY p.period_from
    $q$, lifecycle._customer_days_sql(orders, customer_column, time_column, amount_column, time_zone, NULL, false),
         format(bucket, 'd.day'), format(bucket, 'c.first_day'), periods)
    USING CASE WHEN monthly THEN lifecycle._month_start(from_day) ELSE from_day END,
          CASE WHEN monthly THEN (lifecycle._month_start(to_day) + interval '1 month')::date ELSE to_day END,
          come_back_days;
END
$$;
COMMENT ON FUNCTION lifecycle._buyer_mix(regclass, text, text, text, date, date, text, integer, boolean) IS
  'Internal: new and returning buyers of the period [from_day, to_day), or of each calendar month from the month of from_day to the month of to_day (monthly; a NULL bound is the data''s first or last month)';

CREATE FUNCTION lifecycle.buyer_mix(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_day date, to_day date, time_zone text DEFAULT 'UTC', come_back_days integer DEFAULT 180)
  RETURNS lifecycle.buyer_mix
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  result lifecycle.buyer_mix;
BEGIN
  PERFORM lifecycle.check_period(from_day, to_day);
  PERFORM lifecycle._check_window_days('come_back_days', come_back_days);
  SELECT * INTO result
    FROM lifecycle._buyer_mix(orders, customer_column, time_column, amount_column,
                              from_day, to_day, time_zone, come_back_days, false);
  RETURN result;
END
$$;
COMMENT ON FUNCTION lifecycle.buyer_mix(regclass, text, text, text, date, date, text, integer) IS
  'Buyers of the days [from_day, to_day) split into new (first purchase ever in the period) and returning (bought before it): counts, shares in percent, purchase rows and revenue before refunds each; and how many new buyers bought again on a later day within come_back_days of their first purchase day';

CREATE FUNCTION lifecycle.buyer_mix_monthly(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_month date DEFAULT NULL, to_month date DEFAULT NULL, time_zone text DEFAULT 'UTC',
  come_back_days integer DEFAULT 180)
  RETURNS SETOF lifecycle.buyer_mix
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF from_month IS NOT NULL AND to_month IS NOT NULL THEN
    PERFORM lifecycle._check_months(from_month, to_month);
  END IF;
  PERFORM lifecycle._check_window_days('come_back_days', come_back_days);
  RETURN QUERY
  SELECT * FROM lifecycle._buyer_mix(orders, customer_column, time_column, amount_column,
                                     from_month, to_month, time_zone, come_back_days, true);
END
$$;
COMMENT ON FUNCTION lifecycle.buyer_mix_monthly(regclass, text, text, text, date, date, text, integer) IS
  'lifecycle.buyer_mix for each calendar month (in time_zone) from the month of from_month to the month of to_month, both included; a NULL bound is the month of the data''s first purchase or of its last order row, so that a segment view''s settings (orders, columns, zone) are all it needs';

-- The seeds' figures, one query each.
CREATE TYPE lifecycle.repeat_purchase AS (
  new_buyers    bigint,
  repeat_buyers bigint,
  share_pct     numeric(5,2),
  pending       bigint
);
COMMENT ON TYPE lifecycle.repeat_purchase IS
  'How many customers whose first purchase falls in a period bought again within N days of it';
COMMENT ON COLUMN lifecycle.repeat_purchase.new_buyers IS 'Customers whose first purchase ever falls in the period';
COMMENT ON COLUMN lifecycle.repeat_purchase.repeat_buyers IS 'Of them, those with a purchase on a later day within N days of their first purchase day';
COMMENT ON COLUMN lifecycle.repeat_purchase.share_pct IS 'repeat_buyers / new_buyers, in percent (2 decimals)';
COMMENT ON COLUMN lifecycle.repeat_purchase.pending IS 'New buyers who have not bought again and whose N days end after the last day of the data';

CREATE FUNCTION lifecycle.repeat_within(
  orders regclass, customer_column text, time_column text, amount_column text,
  from_day date, to_day date, within_days integer, time_zone text DEFAULT 'UTC')
  RETURNS lifecycle.repeat_purchase
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  result lifecycle.repeat_purchase;
BEGIN
  PERFORM lifecycle.check_period(from_day, to_day);
  PERFORM lifecycle._check_window_days('within_days', within_days);
  SELECT m.new_buyers, m.came_back, m.came_back_pct, m.come_back_pending INTO result
    FROM lifecycle._buyer_mix(orders, customer_column, time_column, amount_column,
                              from_day, to_day, time_zone, within_days, false) m;
  RETURN result;
END
$$;
COMMENT ON FUNCTION lifecycle.repeat_within(regclass, text, text, text, date, date, integer, text) IS
  'Of the customers whose first purchase falls in the days [from_day, to_day), how many bought again on a later day within within_days of their first purchase day, and their share in percent (as buyer_mix''s came_back)';

CREATE TYPE lifecycle.signup_purchase AS (
  signups         bigint,
  same_day_buyers bigint,
  share_pct       numeric(5,2)
);
COMMENT ON TYPE lifecycle.signup_purchase IS 'How many customers who signed up in a period bought on their sign-up day';
COMMENT ON COLUMN lifecycle.signup_purchase.signups IS 'Customers whose sign-up day falls in the period';
COMMENT ON COLUMN lifecycle.signup_purchase.same_day_buyers IS 'Of them, those with a purchase on their sign-up day';
COMMENT ON COLUMN lifecycle.signup_purchase.share_pct IS 'same_day_buyers / signups, in percent (2 decimals)';

CREATE FUNCTION lifecycle.same_day_buyers(
  customers regclass, customers_key text, signup_column text,
  orders regclass, customer_column text, time_column text,
  from_day date, to_day date, time_zone text DEFAULT 'UTC', amount_column text DEFAULT NULL)
  RETURNS lifecycle.signup_purchase
  LANGUAGE plpgsql STABLE PARALLEL SAFE CALLED ON NULL INPUT
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  result lifecycle.signup_purchase;
  purchases text;
BEGIN
  PERFORM lifecycle.check_period(from_day, to_day);
  IF amount_column IS NULL THEN
    -- every order row is a purchase
    purchases := lifecycle._key_days_sql(orders, customer_column, time_column, time_zone, from_day, to_day);
  ELSE
    purchases := format($q$
      SELECT o.customer, o.day FROM (%s) o
       WHERE CASE WHEN o.amount IS NULL OR (o.amount > '-Infinity'::numeric AND o.amount < 'Infinity'::numeric)
                  THEN o.amount IS NULL OR o.amount >= 0
                  ELSE lifecycle._reject_order_row(o.day, o.amount) END$q$,
      lifecycle.orders_sql(orders, customer_column, time_column, amount_column, time_zone, from_day, to_day));
  END IF;
  EXECUTE format($q$
    WITH signups AS (
      SELECT s.customer, min(s.day) AS day FROM (%s) s
       GROUP BY s.customer HAVING min(s.day) >= $1),
    buyer_days AS (
      SELECT DISTINCT o.customer, o.day FROM (%s) o)
    SELECT count(*), count(b.customer), lifecycle._percent(count(b.customer), count(*))
      FROM signups s LEFT JOIN buyer_days b ON b.customer = s.customer AND b.day = s.day
    $q$, lifecycle._key_days_sql(customers, customers_key, signup_column, time_zone, NULL, to_day), purchases)
    INTO result USING from_day;
  RETURN result;
END
$$;
COMMENT ON FUNCTION lifecycle.same_day_buyers(regclass, text, text, regclass, text, text, date, date, text, text) IS
  'Of the customers who signed up in the days [from_day, to_day) (their earliest sign-up time in the customers relation, in time_zone), how many bought on their sign-up day, and their share in percent; with amount_column, refunds (amount < 0) are not purchases, else every order row is one';
