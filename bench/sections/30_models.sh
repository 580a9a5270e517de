# Section "models": fit times of the purchase models (PRODUCT.md section 7).
# Anchors are lifetimes' times from PRODUCT.md (lifetimes cannot be installed
# here): BG/NBD on CDNOW 52 ms (bar 10 ms, goal 2 ms); BG/NBD on 0.9 M
# customers 13.8 s, against which BG/NBD + Gamma-Gamma on 1 M customers must
# be 10x faster (goal 50x).  Fits include the aggregation over the rows.

BENCH_SECTIONS+=(models)
BENCH_DESCRIPTION[models]="BG/NBD and Gamma-Gamma fits: CDNOW and the 1 M benchmark customers, against lifetimes' times"

section_models() {
	local out cdnow million serial
	out=$(bench_psql -At -F ' ' -v runs=100 -f bench/fit.sql \
		-c "CREATE TEMP TABLE million AS
		      SELECT customer_id, (lifecycle.btyd(lifecycle.rfm_agg(ordered_at, amount), '2025-12-31', 'week')).*
		        FROM public.orders GROUP BY customer_id" \
		-c "CREATE TEMP TABLE histories (customer_id bigint, frequency integer, recency float8, t float8, monetary_value float8)" \
		-c "\\copy histories FROM '$BENCH_HISTORIES'" \
		-c "ANALYZE million" -c "ANALYZE histories" \
		-c "SELECT 'million', what, median_ms FROM pg_temp.fit_times('million', 3)" \
		-c "SET max_parallel_workers_per_gather = 0" \
		-c "SELECT 'serial', what, median_ms FROM pg_temp.fit_times('million', 3)" \
		-c "RESET max_parallel_workers_per_gather" \
		-c "SELECT * FROM pg_temp.recovery('histories', 'histories', 1)" \
		-c "SELECT * FROM pg_temp.recovery('million', 'orders', 7)" 2>&1) ||
		{ echo "$out" >&2; exit 1; }
	echo "CDNOW: 2,357 customers (weeks, calibration end 1997-09-30), 100 runs; 1 M customers: bench data in weeks as of 2025-12-31, 3 runs"
	bench_table_head
	cdnow=$(awk '$1 == "bgnbd_fit" && NF == 3 { print $2 }' <<<"$out" | head -1)
	bench_row "BG/NBD fit, CDNOW" 52 "$cdnow" ms 0.19 0.038 "(anchor: lifetimes 52 ms; bar 10 ms, goal 2 ms)"
	million=$(awk '$1 == "million" && $2 == "bgnbd_fit" && $3 == "+" { print $NF }' <<<"$out")
	bench_row "BG/NBD + Gamma-Gamma, 1 M" 13800 "$million" ms 0.1 0.02 "(default parallelism; anchor: lifetimes, BG/NBD alone on 0.9 M customers)"
	serial=$(awk '$1 == "serial" && $2 == "bgnbd_fit" && $3 == "+" { print $NF }' <<<"$out")
	bench_row "  the same, serial (0 workers)" 13800 "$serial" ms 0.1 0.02 ""
	echo
	echo "parameter recovery on the 1 M generated customers (estimate, standard error, (estimate - true) / SE; alpha in days):"
	echo "  true: $(bench/data/generate --params | awk '/^(bgnbd|gg)_/ { printf "%s=%s ", $1, $2 }')"
	echo "  histories: the generator's exact histories (--histories); orders: the orders' daily summaries in weeks"
	awk 'NR == FNR { truth[$1] = $2; next }
	     $1 == "recovery" { printf "  %-9s %-17s %12.5f %10.5f %+7.2f\n", $2, $3, $4, $5, ($4 - truth[$3]) / $5 }' \
		<(bench/data/generate --params) - <<<"$out"
	echo
	echo "all fit times (median ms):"
	grep -v '^$' <<<"$out" | grep -v '^recovery' | sed 's/^/  /'
}
