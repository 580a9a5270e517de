-- One calendar: lifecycle.local_day and lifecycle.day_start (install/05_calendar.sql).

CREATE FUNCTION lifecycle.local_day(instant timestamptz, time_zone text) RETURNS date
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'lifecycle_local_day';
COMMENT ON FUNCTION lifecycle.local_day(timestamptz, text) IS
  'The calendar day of an instant in an IANA time zone (CET is the IANA zone, with summer time), as rfm_agg and segment views count days';

CREATE FUNCTION lifecycle.day_start(day date, time_zone text) RETURNS timestamptz
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'lifecycle_day_start';
COMMENT ON FUNCTION lifecycle.day_start(date, text) IS
  'The first instant of a calendar day in an IANA time zone: orders of days d1 <= day < d2 are those with day_start(d1) <= time < day_start(d2)';

-- The metrics read timestamptz days in the same calendar.
CREATE OR REPLACE FUNCTION lifecycle.orders_sql(
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
