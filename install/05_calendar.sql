-- One calendar (PRODUCT.md sections 1 and 8): a zone name is an IANA zone
-- everywhere in the extension, in C (rfm_agg, the segment view) and in SQL
-- (the metrics, the companion views) through these two functions; never a
-- PostgreSQL timezone abbreviation, which AT TIME ZONE would try first.

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
