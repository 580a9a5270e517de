#!/usr/bin/env bash
# pg_cron schedules the refresh: the job runs and succeeds.  Needs the
# cluster of tools/test (pg_cron preloaded, cron.database_name = postgres,
# background workers); pg_cron 1.4 schedules by the minute, so this waits
# up to 130 seconds.
set -u
. "$(dirname "$0")/tap.bash"
db=postgres
psql -X -q -v ON_ERROR_STOP=1 -d $db >/dev/null <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE EXTENSION IF NOT EXISTS lifecycle;
CREATE TABLE public.cron_orders (customer_id int, ordered_at date, amount numeric);
INSERT INTO public.cron_orders SELECT i % 20, date '2025-01-01' + i, 10 FROM generate_series(1, 200) i;
SELECT lifecycle.create_segment_view('public.cron_segments', 'public.cron_orders',
                                     'customer_id', 'ordered_at', 'amount', as_of => '2025-12-31');
SQL
ok $? "a segment view in the pg_cron database"
job=$(value $db "SELECT cron.schedule('lifecycle-refresh-test', '* * * * *',
                   \$\$CALL lifecycle.refresh_segment_view('public.cron_segments')\$\$)")
ok $? "scheduled as job $job"
status=""
for i in $(seq 1 130); do
	status=$(value $db "SELECT status FROM cron.job_run_details WHERE jobid = $job AND status IN ('succeeded', 'failed') ORDER BY runid LIMIT 1")
	[ -n "$status" ] && break
	sleep 1
done
is "$status" "succeeded" "cron.job_run_details: the scheduled refresh succeeded"
is "$(value $db "SELECT count(*) >= 1 FROM lifecycle.refresh_runs WHERE view_name = 'public.cron_segments' AND run_id > 1 AND outcome = 'succeeded'")" \
	"t" "lifecycle.refresh_runs recorded the scheduled run"
value $db "SELECT cron.unschedule($job)" >/dev/null
value $db "SELECT lifecycle.drop_segment_view('public.cron_segments')" >/dev/null
value $db "DROP TABLE public.cron_orders" >/dev/null
done_testing
