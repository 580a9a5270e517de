# Section "refresh": the scheduled refresh, what users actually run every
# night, against the same hand-written SQL as a materialized view and its
# REFRESH (PRODUCT.md section 7: <= 0.6x, goal 0.35x; after 1 % new orders
# <= 0.35x, goal 0.1x), with the backend's private memory peak at work_mem
# 16MB (<= 1.5x, goal 1.0x), and against Python lifetimes' summary step
# when BENCH_LIFETIMES names its source trees (>= 3x faster, goal 10x).
#
# Ours is CALL lifecycle.refresh_segment_view on a view with default
# settings (readers never blocked) with its history and transitions.  Its
# as-of day moves one day forward before each refresh, from 2025-12-31, as
# a nightly refresh's does: customers cross stage thresholds, and the
# refresh folds the order rows inserted since (logged by the view's insert
# trigger) into the kept summaries, reads only the orders of customers
# whose orders were updated or deleted, and writes only the rows that
# changed.  The
# anchor is the classify section's hand-written query as a materialized
# view, refreshed with a plain REFRESH (which blocks its readers).
#
# BENCH_LIFETIMES: "lifetimes_dir:autograd_dir", extracted source trees of
# CamDavidsonPilon/lifetimes v0.11.3 and HIPS/autograd; run with
# /usr/bin/python3 and Debian's python3-pandas, python3-scipy and python3-dill.

BENCH_SECTIONS+=(refresh)
BENCH_DESCRIPTION[refresh]="the scheduled refresh (CALL refresh_segment_view) vs REFRESH of the hand-written SQL, full and after 1 % new orders"

# Peak private memory (kB: VmHWM minus shared memory mapped) of a fresh
# backend that runs one statement at work_mem 16MB.
refresh_private_peak() {
	bench_psql -At -c "SET work_mem = '16MB'" -c "$1" \
		-c "SELECT bench.proc_status_kb('VmHWM') - bench.proc_status_kb('RssShmem')" | tail -1
}

# Seconds and peak memory (kB) of lifetimes' summary_data_from_transaction_data
# over the orders, exported to CSV first (the export is not timed).
refresh_lifetimes() {
	local csv=bench/data/lifetimes-orders.csv out
	bench_psql -c "\\copy (SELECT customer_id, ordered_at, amount FROM public.orders WHERE amount >= 0) TO '$csv' CSV HEADER"
	out=$(PYTHONPATH="${BENCH_LIFETIMES%%:*}:${BENCH_LIFETIMES##*:}" /usr/bin/time -f 'maxrss %M' \
		/usr/bin/python3 bench/lifetimes_summary.py "$csv" 2>&1)
	echo "$out" | awk '/^summary / { s = $2 } /^load / { l = $2 } /^maxrss / { m = $2 } END { print s, l, m }'
}

section_refresh() {
	local common="SET work_mem = '$BENCH_WORK_MEM'"
	local toggle ours anchor a o m_a m_o full
	bench_psql -c "SELECT lifecycle.drop_segment_view(to_regclass('public.bench_refresh'))
	                 WHERE to_regclass('public.bench_refresh') IS NOT NULL" \
		-c "SELECT lifecycle.create_segment_view('public.bench_refresh', 'public.orders',
	                 'customer_id', 'ordered_at', 'amount', as_of => '2025-12-31')" \
		-c "DROP MATERIALIZED VIEW IF EXISTS public.bench_hand_written_refresh" \
		-c "CREATE MATERIALIZED VIEW public.bench_hand_written_refresh AS $(classify_anchor_sql)" >/dev/null
	toggle="UPDATE lifecycle.segment_views SET as_of = as_of + 1 WHERE view_name = 'public.bench_refresh'"
	ours="CALL lifecycle.refresh_segment_view('public.bench_refresh')"
	anchor="REFRESH MATERIALIZED VIEW public.bench_hand_written_refresh"
	echo "anchor: REFRESH MATERIALIZED VIEW of the classify section's hand-written query (blocks readers)"
	echo "ours:   $ours, default settings, the as-of day one day later at each refresh (readers never blocked; history, transitions)"
	echo
	bench_table_head
	bench_time "$common" "$anchor" "$toggle" "$ours"
	read -r -a a <<<"${BENCH_TIMES[0]}"
	read -r -a o <<<"${BENCH_TIMES[2]}"
	full=${o[0]}
	bench_row "scheduled refresh, full" "${a[0]}" "${o[0]}" ms 0.6 0.35 \
		"(ranges: anchor ${a[1]}-${a[2]}, ours ${o[1]}-${o[2]})"
	echo "the last run's phases: $(bench_value "SELECT format('order rows read %s (every order: %s), rows written %s, reading %s, scoring %s, computing rows %s, whole refresh %s, history %s, total %s',
	        rows_read, full_read, rows_written, read_time, score_time, write_time, refresh_time, history_time, duration)
	   FROM lifecycle.refresh_runs WHERE view_name = 'public.bench_refresh' ORDER BY run_id DESC LIMIT 1")"

	# 1 % new orders before each refresh: a day's orders of existing
	# customers, on 2025-12-31 (removed again afterwards)
	bench_time "$common" \
		"INSERT INTO public.orders SELECT customer_id, timestamptz '2025-12-31 23:59:59.5+00', amount FROM public.orders TABLESAMPLE SYSTEM (1) REPEATABLE (7)" \
		"$anchor" "$toggle" "$ours"
	read -r -a a <<<"${BENCH_TIMES[1]}"
	read -r -a o <<<"${BENCH_TIMES[3]}"
	bench_row "after 1 % new orders" "${a[0]}" "${o[0]}" ms 0.35 0.1 \
		"(ours folds the new order rows, logged by its insert trigger, into the kept summaries)"
	echo "the last run's phases: $(bench_value "SELECT format('order rows read %s (every order: %s), rows written %s, reading %s, scoring %s, computing rows %s, whole refresh %s, history %s, total %s',
	        rows_read, full_read, rows_written, read_time, score_time, write_time, refresh_time, history_time, duration)
	   FROM lifecycle.refresh_runs WHERE view_name = 'public.bench_refresh' ORDER BY run_id DESC LIMIT 1")"
	bench_psql -c "DELETE FROM public.orders WHERE ordered_at = timestamptz '2025-12-31 23:59:59.5+00'" \
		-c "VACUUM ANALYZE public.orders" >/dev/null

	m_a=$(refresh_private_peak "$anchor")
	m_o=$(refresh_private_peak "$ours")
	bench_row "private memory peak, work_mem 16MB" "$m_a" "$m_o" kB 1.5 1.0 \
		"(VmHWM - RssShmem of the backend; ours holds the changed customers' summaries and the buyers' R, F, M values, and reads every other customer's row twice)"

	if [ -n "${BENCH_LIFETIMES:-}" ]; then
		read -r -a l <<<"$(refresh_lifetimes)"
		bench_row "lifetimes summary step (time)" "$(awk -v s="${l[0]}" 'BEGIN { printf "%.0f", s * 1000 }')" "$full" ms \
			0.333 0.1 "(lifetimes: summary_data_from_transaction_data; its CSV load ${l[1]} s not counted)"
		bench_row "lifetimes summary step (memory)" "${l[2]}" "$m_o" kB - - "(lifetimes: max RSS of the Python process)"
	else
		echo "lifetimes: not run (set BENCH_LIFETIMES=lifetimes_dir:autograd_dir)"
	fi
}
