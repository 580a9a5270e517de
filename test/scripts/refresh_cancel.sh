#!/usr/bin/env bash
# A refresh that is cancelled, or whose backend is terminated, leaves the
# previous contents readable; the run is recorded as cancelled or
# interrupted, and the next refresh succeeds.
set -u
. "$(dirname "$0")/tap.bash"
db=lifecycle_cancel
dropdb --if-exists $db 2>/dev/null; createdb $db
psql -X -q -v ON_ERROR_STOP=1 -d $db >/dev/null <<'SQL'
CREATE EXTENSION lifecycle;
CREATE TABLE orders_data (customer_id int, ordered_at date, amount numeric);
INSERT INTO orders_data SELECT i % 50, date '2025-01-01' + i % 200, 10 FROM generate_series(1, 1000) i;
-- The view reads orders through a function that can be made slow.
CREATE TABLE slow (seconds float8);
INSERT INTO slow VALUES (0);
CREATE FUNCTION public.pause() RETURNS boolean LANGUAGE sql VOLATILE
  AS 'SELECT pg_catalog.pg_sleep(seconds) IS NOT NULL FROM public.slow';
CREATE VIEW orders AS SELECT * FROM orders_data WHERE pause();
SELECT lifecycle.create_segment_view('segs', 'orders', 'customer_id', 'ordered_at', 'amount', as_of => '2025-12-31');
UPDATE slow SET seconds = 30;
INSERT INTO orders_data VALUES (999, '2025-12-01', 1);
SQL
ok $? "a segment view over a view that can be made slow"
before=$(value $db "SELECT count(*) || '/' || sum(orders) FROM segs")
is "$before" "50/1000" "contents before"

# Start a refresh in the background, wait until it runs, then stop it.
stop_refresh() {
	local how=$1 pid i
	psql -X -q -d $db -c "CALL lifecycle.refresh_segment_view('segs')" >/dev/null 2>&1 &
	for i in $(seq 1 100); do
		pid=$(value $db "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CALL lifecycle.refresh_segment_view%' AND state = 'active'")
		[ -n "$pid" ] && break
		sleep 0.1
	done
	sleep 0.5
	activity=$(value $db "SELECT query FROM pg_stat_activity WHERE pid = $pid")
	value $db "SELECT $how($pid)" >/dev/null
	wait
}

stop_refresh pg_cancel_backend
is "$(grep -o 'lifecycle: reading orders, 0 order rows, 0 customers' <<<"$activity")" \
	"lifecycle: reading orders, 0 order rows, 0 customers" "pg_stat_activity shows the refresh's phase and progress"
is "$(value $db "SELECT count(*) || '/' || sum(orders) FROM segs")" "$before" "cancelled: previous contents still readable"
is "$(value $db "SELECT outcome FROM lifecycle.refresh_runs ORDER BY run_id DESC LIMIT 1")" "cancelled" "cancelled: recorded as cancelled"

stop_refresh pg_terminate_backend
is "$(value $db "SELECT count(*) || '/' || sum(orders) FROM segs")" "$before" "terminated: previous contents still readable"
is "$(value $db "SELECT outcome FROM lifecycle.refresh_runs ORDER BY run_id DESC LIMIT 1")" "running" \
	"terminated: the run is left running until the next refresh looks"

value $db "UPDATE slow SET seconds = 0" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CALL lifecycle.refresh_segment_view('segs')"
ok $? "the next refresh succeeds"
is "$(value $db "SELECT count(*) || '/' || sum(orders) FROM segs")" "51/1001" "and sees the new order"
is "$(value $db "SELECT rows_read || ' ' || (read_time >= '0' AND score_time >= '0' AND write_time >= '0'
                                         AND fit_time = '0' AND refresh_time >= read_time + write_time
                                         AND history_time >= '0')
                  FROM lifecycle.refresh_runs ORDER BY run_id DESC LIMIT 1")" "1001 true" \
	"the history keeps the rows read and each phase's time"
is "$(value $db "SELECT string_agg(outcome, ',' ORDER BY run_id) FROM lifecycle.refresh_runs")" \
	"succeeded,cancelled,interrupted,succeeded" "history: build, cancelled, interrupted, succeeded"
dropdb $db
done_testing
