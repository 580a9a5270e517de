# Section "classify": the full classification (summary, scores, stage,
# segment) against the hand-written SQL people use today: GROUP BY, three
# ntile windows and CASE (PRODUCT.md section 7: <= 0.5x, goal 0.35x).
#
# Ours is every customer's row of a segment view over public.orders as of
# 2025-12-31, default settings (lifecycle._segment_view_changes reading every
# order for a view without rows yet), measured the same way as the anchor:
# SELECT count(...).  Building the view (a refresh that reads every order and
# writes every row, with its history) is timed against the REFRESH of the
# anchor as a materialized view.

BENCH_SECTIONS+=(classify)
BENCH_DESCRIPTION[classify]="full classification: segment view query vs GROUP BY + three ntile windows + CASE"

# The hand-written classification: recency from the last order time, F as
# orders, M as the sum of amounts, stages by the day thresholds, segments by
# the default rule set written out as CASE.
classify_anchor_sql() {
	cat <<'SQL'
WITH s AS (
  SELECT customer_id, min(ordered_at) AS first_order, max(ordered_at) AS last_order,
         count(*) AS orders, sum(amount) AS monetary
    FROM orders GROUP BY customer_id),
scored AS (
  SELECT s.*, ntile(5) OVER (ORDER BY last_order) AS r, ntile(5) OVER (ORDER BY orders) AS f,
         ntile(5) OVER (ORDER BY monetary) AS m
    FROM s)
SELECT customer_id, r, f, m,
       CASE WHEN date '2025-12-31' - (last_order AT TIME ZONE 'UTC')::date > 270 THEN 'churned'
            WHEN date '2025-12-31' - (last_order AT TIME ZONE 'UTC')::date > 180 THEN 'dormant'
            WHEN date '2025-12-31' - (last_order AT TIME ZONE 'UTC')::date > 90 THEN 'at_risk'
            WHEN orders = 1 THEN 'new' ELSE 'active' END AS stage,
       CASE WHEN r = 5 AND f = 5 AND m = 5 THEN 'Champions'
            WHEN r BETWEEN 3 AND 5 AND f BETWEEN 3 AND 5 AND m BETWEEN 2 AND 5 THEN 'Potential Loyalist'
            WHEN r BETWEEN 2 AND 4 AND f BETWEEN 2 AND 4 AND m BETWEEN 2 AND 4 THEN 'Loyal Customers'
            WHEN r BETWEEN 3 AND 4 AND f BETWEEN 1 AND 3 AND m BETWEEN 3 AND 5 THEN 'Promising'
            WHEN r BETWEEN 4 AND 5 AND f BETWEEN 1 AND 3 AND m BETWEEN 1 AND 5 THEN 'New Customers'
            WHEN r BETWEEN 1 AND 2 AND f BETWEEN 3 AND 4 AND m BETWEEN 4 AND 5 THEN 'Can''t Lose Them'
            WHEN r BETWEEN 1 AND 2 AND f BETWEEN 2 AND 5 AND m BETWEEN 4 AND 5 THEN 'At Risk'
            WHEN r BETWEEN 1 AND 3 AND f BETWEEN 3 AND 5 AND m BETWEEN 3 AND 5 THEN 'Need Attention'
            WHEN r BETWEEN 2 AND 3 AND f BETWEEN 1 AND 3 AND m BETWEEN 1 AND 4 THEN 'About To Sleep'
            WHEN r = 1 THEN 'Lost' ELSE 'Others' END AS segment
  FROM scored
SQL
}

section_classify() {
	local common="SET work_mem = '$BENCH_WORK_MEM'"
	local anchor ours columns t0 t1 a o

	bench_psql -c "SELECT lifecycle.drop_segment_view(to_regclass('public.bench_segments'))
	                 WHERE to_regclass('public.bench_segments') IS NOT NULL" >/dev/null
	t0=$(date +%s%N)
	bench_psql -c "SELECT lifecycle.create_segment_view('public.bench_segments', 'public.orders',
	                 'customer_id', 'ordered_at', 'amount', as_of => '2025-12-31')" >/dev/null
	t1=$(date +%s%N)
	echo "create_segment_view (every row computed and written, companions, history): $(( (t1 - t0) / 1000000 )) ms"
	# without rows of its own, the view's computation gives every customer's row
	bench_psql -c "TRUNCATE public.bench_segments_data" >/dev/null
	columns=$(bench_value "SELECT string_agg(format('%I %s', name, coalesce(type, 'bigint')), ', ')
	                        FROM lifecycle._row_columns()")
	anchor="SELECT count(q) FROM ($(classify_anchor_sql)) q"
	ours="SELECT count(f) FROM lifecycle.segment_views v,
	        lifecycle._segment_view_changes(v, '2025-12-31', NULL, NULL) AS f($columns)
	       WHERE v.view_name = 'public.bench_segments'"
	echo "anchor: GROUP BY customer_id with min/max/count/sum, three ntile(5) windows, CASE stages and segments"
	echo "ours:   every customer's row of the segment view (lifecycle._segment_view_changes reading every order, no rows yet), default settings, as of 2025-12-31"
	echo "plan, anchor: $(bench_plan "$common" "$anchor")"
	echo
	bench_table_head
	bench_time "$common" "$anchor" "$ours"
	read -r -a a <<<"${BENCH_TIMES[0]}"
	read -r -a o <<<"${BENCH_TIMES[1]}"
	bench_row "time, default parallelism" "${a[0]}" "${o[0]}" ms 0.5 0.35 \
		"(ranges: anchor ${a[1]}-${a[2]}, ours ${o[1]}-${o[2]})"
	bench_psql -c "DROP MATERIALIZED VIEW IF EXISTS public.bench_hand_written" \
		-c "CREATE MATERIALIZED VIEW public.bench_hand_written AS $(classify_anchor_sql) WITH NO DATA" >/dev/null
	bench_time "$common" "REFRESH MATERIALIZED VIEW public.bench_hand_written" \
		"TRUNCATE public.bench_segments_data" \
		"CALL lifecycle.refresh_segment_view('public.bench_segments', full_read => true)"
	read -r -a a <<<"${BENCH_TIMES[0]}"
	read -r -a o <<<"${BENCH_TIMES[2]}"
	bench_row "building the view (every row written)" "${a[0]}" "${o[0]}" ms 0.5 0.35 \
		"(anchor: REFRESH of its materialized view; ours: a refresh reading every order into empty rows, with history; ranges: anchor ${a[1]}-${a[2]}, ours ${o[1]}-${o[2]})"
}
