# Shared by bench/run and bench/sections/*.sh: run queries against the
# benchmark database, time them, measure their memory, print report lines.
# Source after tools/lib.sh.

BENCH_DB=${BENCH_DB:-lifecycle_bench}
BENCH_RUNS=${BENCH_RUNS:-3}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

# psql on the benchmark database, stopping at the first error.
bench_psql() {
	psql -X -q -v ON_ERROR_STOP=1 -d "$BENCH_DB" "$@"
}

# One value from a query, unaligned.
bench_value() {
	bench_psql -At -c "$1"
}

# Time queries in one session after the given settings (SQL): a warm-up
# run of each, then BENCH_RUNS rounds running each once, so that any
# background load falls on all alike (psql \timing: wall clock at the
# client; each query returns one row).  Sets BENCH_TIMES[i] to "median min
# max" in ms for the i-th query.
bench_time() {
	local settings=$1 i q out queries
	shift
	queries=("$@")
	out=$({
		echo "$settings;"
		echo '\o /dev/null'
		echo '\timing on'
		for ((i = 0; i <= BENCH_RUNS; i++)); do
			for q in "$@"; do echo "$q;"; done
		done
	} | bench_psql)
	BENCH_TIMES=()
	for ((i = 0; i < $#; i++)); do
		BENCH_TIMES+=("$(awk -v k=$# -v i=$i '/^Time: / { if (n >= k && n % k == i) print $2; n++ }' <<<"$out" |
			sort -g | awk '{ v[NR] = $1 }
				END { if (NR == 0) exit 1
					  m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
					  printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }')")
		[ -n "${BENCH_TIMES[i]}" ] || { echo "bench: no timing for: ${queries[i]}" >&2; exit 1; }
	done
}

# Memory of one run of a query in a fresh backend, after the given settings.
# Sets BENCH_MEMORY to (hashagg_kb disk_kb batches rss_before_kb hwm_kb
# shmem_kb), "-" where unknown.
bench_memory() {
	local settings=$1 query=$2 out
	out=$(bench_psql -At -F ' ' -P null=- -c "$settings" \
		-c "SELECT * FROM bench.memory(\$bench\$$query\$bench\$)")
	read -r -a BENCH_MEMORY <<<"$out"
}

# The plan of a query after the given settings, as one line of node names.
bench_plan() {
	local settings=$1 query=$2
	bench_psql -At -c "$settings" -c "SELECT bench.plan_shape(\$bench\$$query\$bench\$)"
}

# Print the column headings of a comparison table.
bench_table_head() {
	printf '%-34s %14s %14s %7s %6s %6s  %s\n' measure anchor ours ratio bar goal verdict
}

# Print one comparison: label, anchor value, ours value, unit, bar and goal
# (highest acceptable ours/anchor ratios; "-" for none), and an optional
# note.  The verdict is against the bar and the goal.
bench_row() {
	local label=$1 anchor=$2 ours=$3 unit=$4 bar=$5 goal=$6 note=${7:-}
	if [ "$anchor" = - ] || [ "$ours" = - ] || [ "$anchor" = 0 ]; then
		printf '%-34s %14s %14s %7s %6s %6s  %s\n' "$label" "$anchor" "$ours" - "$bar" "$goal" "n/a $note"
		return
	fi
	awk -v l="$label" -v a="$anchor" -v o="$ours" -v u="$unit" -v bar="$bar" -v goal="$goal" -v note="$note" '
		BEGIN {
			r = o / a
			v = "-"
			if (bar != "-") v = r <= bar ? "meets bar" : "MISSES bar"
			if (goal != "-" && r <= goal) v = "meets goal"
			printf "%-34s %14s %14s %6.2fx %6s %6s  %s %s\n", l, a " " u, o " " u, r, bar, goal, v, note
		}'
}
