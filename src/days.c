/*
 * days.c
 *	  Turning order times into calendar days.
 *
 * A purchase day is a DateADT (days since 2000-01-01).  A timestamptz is cut
 * into days in an explicit time zone, never in the session's TimeZone, so the
 * same orders give the same days whoever runs the query.  Infinite times are
 * rejected: they have no calendar day.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/datetime.h"

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
