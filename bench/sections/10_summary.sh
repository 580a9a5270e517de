# Section "summary": the per-customer summary against built-in aggregates
# (PRODUCT.md section 7: time <= 1.0x, goal 0.7x; memory <= 1.2x, goal 1.0x),
# on the orders as generated and again on the same orders with a placeholder
# order on 0001-01-01 for every customer (issue 11: a date far from the rest
# must cost no more than any order).
#
# Both queries are wrapped as SELECT count(q) FROM (...) q: the whole-row
# reference keeps every output column (the planner would otherwise drop the
# unused aggregates of the anchor), so every aggregate and rfm_agg's final
# function run for every customer, while only one row reaches the client.
#
# BENCH_PLACEHOLDERS=N gives the placeholder to the first N customers only
# (default: all; 0 skips the placeholder case): a build whose day set spans
# first to last day takes about 92 kB a customer for it.

BENCH_SECTIONS+=(summary)
BENCH_DESCRIPTION[summary]="per-customer summary: rfm_agg vs min/max/count/sum, GROUP BY customer_id; plain and with a 0001-01-01 placeholder order"

section_summary() {
	local placeholders=${BENCH_PLACEHOLDERS:-all} plain placeholder
	summary_on orders
	plain=("${SUMMARY_MEMORY[@]}")
	[ "$placeholders" != 0 ] || return 0
	summary_placeholder_table "$placeholders"
	echo
	echo "-- the same orders, and a placeholder order (0001-01-01, amount 0) for $(bench_value "SELECT count(*) FROM public.orders_placeholder WHERE ordered_at < '1000-01-01'") customers"
	summary_on orders_placeholder
	placeholder=("${SUMMARY_MEMORY[@]}")
	bench_row "ours: placeholder / plain, HashAgg" "${plain[0]}" "${placeholder[0]}" kB - - \
		"(ours on orders_placeholder against ours on orders: what the placeholders cost)"
	bench_row "ours: placeholder / plain, private" "${plain[1]}" "${placeholder[1]}" kB - - ""
}

# The summary comparison on one orders table: plans, time (default
# parallelism and serial), memory.  Sets SUMMARY_MEMORY to ours'
# (hashagg_kb private_peak_kb).
summary_on() {
	local table=$1
	local anchor="SELECT count(q) FROM (SELECT customer_id, min(ordered_at), max(ordered_at), count(*), sum(amount) FROM $table GROUP BY customer_id) q"
	local ours="SELECT count(q) FROM (SELECT customer_id, lifecycle.rfm_agg(ordered_at, amount) FROM $table GROUP BY customer_id) q"
	local floor="SELECT count(q) FROM (SELECT customer_id, count(*) FROM $table GROUP BY customer_id) q"
	local common="SET work_mem = '$BENCH_WORK_MEM'"
	local serial="$common; SET max_parallel_workers_per_gather = 0"
	local a o

	echo "anchor: $(inner "$anchor")"
	echo "ours:   $(inner "$ours")"
	echo "floor:  $(inner "$floor")"
	echo "        (all as SELECT count(q) FROM (...) q; work_mem = $BENCH_WORK_MEM for all, so no hash table spills)"
	echo "customers: anchor $(bench_value "$anchor"), ours $(bench_value "$ours")"
	echo "plan, default parallelism: anchor $(bench_plan "$common" "$anchor")"
	echo "                           ours   $(bench_plan "$common" "$ours")"
	echo "plan, serial:              anchor $(bench_plan "$serial" "$anchor")"
	echo "                           ours   $(bench_plan "$serial" "$ours")"
	echo

	bench_table_head
	compare_time "time, default parallelism" "$common" "$anchor" "$ours" "$floor"
	compare_time "time, serial (0 workers)" "$serial" "$anchor" "$ours" "$floor"

	# memory: serial, one fresh backend per measurement
	bench_memory "$serial" "$anchor"
	a=("${BENCH_MEMORY[@]}")
	bench_memory "$serial" "$ours"
	o=("${BENCH_MEMORY[@]}")
	bench_row "memory, HashAggregate peak" "${a[0]}" "${o[0]}" kB 1.2 1.0 \
		"(batches ${a[2]}/${o[2]}, disk ${a[1]}/${o[1]} kB)"
	SUMMARY_MEMORY=("${o[0]}" -)
	if [ "${a[4]}" != - ] && [ "${o[4]}" != - ]; then
		bench_row "memory, backend VmHWM" "${a[4]}" "${o[4]}" kB - - \
			"(includes shared buffers mapped: ${a[5]}/${o[5]} kB)"
		bench_row "memory, backend private peak" "$((a[4] - a[5]))" "$((o[4] - o[5]))" kB 1.2 1.0 \
			"(VmHWM - RssShmem; RSS at start ${a[3]}/${o[3]} kB)"
		SUMMARY_MEMORY[1]=$((o[4] - o[5]))
	else
		echo "memory, backend VmHWM: not readable (needs Linux and a superuser)"
	fi
}

# Make public.orders_placeholder unless it already holds what is asked:
# a placeholder row (0001-01-01 UTC, amount 0) for each of the first N
# customers ("all": every customer), then every row of public.orders, in
# their order (the placeholders come first, as the oldest rows of a table
# that fills up in time order would).
summary_placeholder_table() {
	local n=$1 tag limit=""
	tag="$(bench_value "SELECT obj_description('public.orders'::regclass, 'pg_class')") placeholders $n"
	[ "$n" = all ] || limit="ORDER BY customer_id LIMIT $n"
	if [ "$(bench_value "SELECT obj_description(to_regclass('public.orders_placeholder'), 'pg_class')")" != "$tag" ]; then
		echo "bench: making orders_placeholder ($n placeholders)" >&2
		bench_psql -c "DROP TABLE IF EXISTS public.orders_placeholder" \
			-c "SET work_mem = '$BENCH_WORK_MEM'" \
			-c "CREATE TABLE public.orders_placeholder AS
				SELECT customer_id, timestamptz '0001-01-01 00:00+00' AS ordered_at, 0::numeric(12,2) AS amount
				  FROM (SELECT DISTINCT customer_id FROM public.orders $limit) c
				UNION ALL SELECT customer_id, ordered_at, amount FROM public.orders" \
			-c "COMMENT ON TABLE public.orders_placeholder IS '$tag'"
	fi
	bench_psql -c "VACUUM ANALYZE public.orders_placeholder"
	bench_psql -c "SELECT pg_prewarm('public.orders_placeholder')" >/dev/null
}

# Timing rows for one setting: ours against the anchor, and the floor
# (GROUP BY with count(*) alone: what any per-customer aggregate costs here)
# against the anchor for reference.  Arguments: label, settings, anchor,
# ours, floor queries.
compare_time() {
	local label=$1 settings=$2 anchor=$3 ours=$4 floor=$5 a o f
	bench_time "$settings" "$anchor" "$ours" "$floor"
	read -r -a a <<<"${BENCH_TIMES[0]}"
	read -r -a o <<<"${BENCH_TIMES[1]}"
	read -r -a f <<<"${BENCH_TIMES[2]}"
	bench_row "$label" "${a[0]}" "${o[0]}" ms 1.0 0.7 \
		"(ranges: anchor ${a[1]}-${a[2]}, ours ${o[1]}-${o[2]})"
	bench_row "  floor: count(*) only" "${a[0]}" "${f[0]}" ms - - "(range ${f[1]}-${f[2]})"
}

# The inner query of "SELECT count(q) FROM (inner) q".
inner() {
	local q=${1#SELECT count(q) FROM (}
	echo "${q%) q}"
}
