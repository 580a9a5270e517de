/*
 * progress.c
 *	  Progress of computing a segment view's facts, shown where DBAs look:
 *	  the backend's pg_stat_activity.query becomes the statement followed by
 *	  the phase and the counts so far ("... -- lifecycle: reading orders,
 *	  3145728 rows, 301022 customers"), updated every PROGRESS_EVERY_ROWS
 *	  rows.  The time of each phase is kept for the refresh's history
 *	  (lifecycle._last_facts).
 */
#include "postgres.h"

#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "utils/timestamp.h"

#include "progress.h"

static const char *const phase_names[PHASE_COUNT] = {
	"reading orders", "scoring", "fitting purchase models", "writing rows"
};

/* The phase under way, when it started, and the time of those done. */
static FactsPhase current;
static TimestampTz started;
static double seconds[PHASE_COUNT];
static int64 last_rows;

/* Show the phase and counts in pg_stat_activity. */
static void
show(FactsPhase phase, int64 rows, int64 customers)
{
	char	   *text = psprintf("%s -- lifecycle: %s, " INT64_FORMAT " order rows, " INT64_FORMAT " customers",
								debug_query_string != NULL ? debug_query_string : "", phase_names[phase],
								rows, customers);

	pgstat_report_activity(STATE_RUNNING, text);
	pfree(text);
}

/*
 * Enter (or stay in) a phase: the previous phase's time is recorded when
 * the phase changes; rows and customers are shown either way.
 */
void
progress_phase(FactsPhase phase, int64 rows, int64 customers)
{
	TimestampTz now = GetCurrentTimestamp();

	if (phase == PHASE_READ && rows == 0)
	{
		memset(seconds, 0, sizeof(seconds));
		current = PHASE_READ;
		started = now;
	}
	else if (phase != current)
	{
		seconds[current] += (double) (now - started) / USECS_PER_SEC;
		current = phase;
		started = now;
	}
	show(phase, rows, customers);
}

/* The facts are written: record the last phase's time and the rows read. */
void
progress_done(int64 rows)
{
	seconds[current] += (double) (GetCurrentTimestamp() - started) / USECS_PER_SEC;
	last_rows = rows;
	if (debug_query_string != NULL)
		pgstat_report_activity(STATE_RUNNING, debug_query_string);
}

/* The order rows read and each phase's seconds of the last facts computed. */
void
progress_last(int64 *rows, double *phase_seconds)
{
	*rows = last_rows;
	memcpy(phase_seconds, seconds, sizeof(seconds));
}
