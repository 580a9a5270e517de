# Section "models": fit times of the purchase models (PRODUCT.md section 7).
# Anchors are lifetimes' times from PRODUCT.md (lifetimes cannot be installed
# here): BG/NBD on CDNOW 52 ms (bar 10 ms, goal 2 ms); BG/NBD on 0.9 M
# customers 13.8 s, against which BG/NBD + Gamma-Gamma on 1 M customers must
# be 10x faster (goal 50x).  Fits include the aggregation over the rows.

BENCH_SECTIONS+=(models)
BENCH_DESCRIPTION[models]="BG/NBD and Gamma-Gamma fits: CDNOW and the 1 M benchmark customers, against lifetimes' times"

section_models() {
	local out cdnow million
	out=$(bench_psql -At -F ' ' -v runs=100 -f bench/fit.sql \
		-c "CREATE TEMP TABLE million AS
		      SELECT customer_id, (lifecycle.btyd(lifecycle.rfm_agg(ordered_at, amount), '2025-12-31', 'week')).*
		        FROM public.orders GROUP BY customer_id" \
		-c "SELECT 'million', what, median_ms FROM pg_temp.fit_times('million', 3)" \
		-c "SELECT 'recovered', 'bgnbd', round(f.r::numeric, 4), round(f.r_se::numeric, 4),
		           round((f.alpha * 7)::numeric, 3), round((f.alpha_se * 7)::numeric, 3),
		           round(f.a::numeric, 4), round(f.a_se::numeric, 4), round(f.b::numeric, 3), round(f.b_se::numeric, 3)
		      FROM (SELECT (lifecycle.bgnbd_fit(frequency, recency, t)).* FROM million) f" \
		-c "SELECT 'recovered', 'gammagamma', round(f.p::numeric, 3), round(f.p_se::numeric, 3),
		           round(f.q::numeric, 3), round(f.q_se::numeric, 3), round(f.gamma::numeric, 3), round(f.gamma_se::numeric, 3)
		      FROM (SELECT (lifecycle.gammagamma_fit(frequency, monetary_value)).* FROM million) f" 2>&1) ||
		{ echo "$out" >&2; exit 1; }
	echo "CDNOW: 2,357 customers (weeks, calibration end 1997-09-30), 100 runs; 1 M customers: bench data in weeks as of 2025-12-31, 3 runs"
	bench_table_head
	cdnow=$(awk '$1 == "bgnbd_fit" && NF == 3 { print $2 }' <<<"$out" | head -1)
	bench_row "BG/NBD fit, CDNOW" 52 "$cdnow" ms 0.19 0.038 "(anchor: lifetimes 52 ms; bar 10 ms, goal 2 ms)"
	million=$(awk '$1 == "million" && $2 == "bgnbd_fit" && $3 == "+" { print $NF }' <<<"$out")
	bench_row "BG/NBD + Gamma-Gamma, 1 M" 13800 "$million" ms 0.1 0.02 "(anchor: lifetimes, BG/NBD alone on 0.9 M customers)"
	echo
	echo "parameter recovery on the 1 M generated customers (estimate, standard error; alpha in days):"
	echo "  true: $(bench/data/generate --params | awk '/^(bgnbd|gg)_/ { printf "%s=%s ", $1, $2 }')"
	grep '^recovered' <<<"$out" | sed 's/^recovered /  fitted: /'
	echo
	echo "all fit times (median ms):"
	grep -v '^$' <<<"$out" | sed 's/^/  /'
}
