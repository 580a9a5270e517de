/*
 * days.c
 *	  Turning order times into calendar days.
 *
 * A purchase day is a DateADT (days since 2000-01-01).  A timestamptz is cut
 * into days in an explicit time zone, never in the session's TimeZone, so the
 * same orders give the same days whoever runs the query.  Infinite times are
 * rejected: they have no calendar day.
 *
 * One calendar: a zone name is always an IANA zone (pg_tzset), never one of
 * PostgreSQL's timezone abbreviations, which AT TIME ZONE tries first ('CET'
 * is the IANA zone with summer time here, not the fixed +01 abbreviation).
 * SQL reaches the same calendar through lifecycle.local_day and
 * lifecycle.day_start below.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

#include "compat.h"
#include "days.h"

/* Reject an infinite order time with a clear error. */
static inline void
reject_infinite_time(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("order time must be finite"),
			 errdetail("An order at -infinity or infinity has no calendar day."),
			 errhint("Filter such rows out or set their order time to NULL to ignore them.")));
}

/* The day of a date: itself, once we know it is finite. */
DateADT
day_of_date(DateADT d)
{
	if (DATE_NOT_FINITE(d))
		reject_infinite_time();
	return d;
}

/* The day of a timestamp without time zone: its own calendar date. */
DateADT
day_of_timestamp(Timestamp ts)
{
	if (TIMESTAMP_NOT_FINITE(ts))
		reject_infinite_time();
	/* floor division: times before 2000-01-01 are negative */
	if (ts < 0)
		return (DateADT) ((ts - (USECS_PER_DAY - 1)) / USECS_PER_DAY);
	return (DateADT) (ts / USECS_PER_DAY);
}

/*
 * The day of a timestamptz in the given zone; NULL zone means UTC, the fast
 * path, which needs no calendar arithmetic.
 */
DateADT
day_of_timestamptz(TimestampTz ts, const pg_tz *zone)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (TIMESTAMP_NOT_FINITE(ts))
		reject_infinite_time();
	if (zone == NULL)
		return day_of_timestamp((Timestamp) ts);
	if (timestamp2tm(ts, &tz, &tm, &fsec, NULL, (pg_tz *) zone) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
}

/*
 * The zone named by an IANA name such as 'Europe/Paris'; NULL for UTC so that
 * callers take the fast path.
 */
const pg_tz *
lookup_zone(const text *name)
{
	char	   *zone_name = text_to_cstring(name);
	pg_tz	   *zone;

	if (pg_strcasecmp(zone_name, "UTC") == 0)
		return NULL;
	zone = pg_tzset(zone_name);
	if (zone == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", zone_name),
				 errhint("Use an IANA time zone name such as 'UTC' or 'Europe/Paris'.")));
	return zone;
}

/*
 * The first instant of a calendar day in the zone (NULL: UTC): where the
 * day's orders begin.  On a day that starts in a DST gap it is the first
 * instant that exists.
 */
TimestampTz
day_start(DateADT day, const pg_tz *zone)
{
	struct pg_tm tm;
	TimestampTz result;

	if (DATE_NOT_FINITE(day) || !IS_VALID_DATE(day))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date out of range for a calendar day")));
	j2date(day + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	if (zone == NULL)
		result = (TimestampTz) day * USECS_PER_DAY;
	else
		/* PostgreSQL's zone offsets are seconds west of Greenwich */
		result = (TimestampTz) day * USECS_PER_DAY +
			(TimestampTz) DetermineTimeZoneOffset(&tm, (pg_tz *) zone) * USECS_PER_SEC;
	if (!IS_VALID_TIMESTAMP(result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return result;
}

PG_FUNCTION_INFO_V1(lifecycle_local_day);
/*
 * lifecycle.local_day(timestamptz, zone): the calendar day of an instant in
 * an IANA zone, as rfm_agg and the segment view count it.
 */
Datum
lifecycle_local_day(PG_FUNCTION_ARGS)
{
	const pg_tz *zone = lookup_zone(PG_GETARG_TEXT_PP(1));

	PG_RETURN_DATEADT(day_of_timestamptz(PG_GETARG_TIMESTAMPTZ(0), zone));
}

PG_FUNCTION_INFO_V1(lifecycle_day_start);
/*
 * lifecycle.day_start(date, zone): the first instant of a calendar day in an
 * IANA zone, so that a range of days becomes an indexable range of times.
 */
Datum
lifecycle_day_start(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(day_start(PG_GETARG_DATEADT(0), lookup_zone(PG_GETARG_TEXT_PP(1))));
}
