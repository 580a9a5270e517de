#!/usr/bin/env bash
# The README's quick start runs as written: its first SQL block as the
# superuser, its second as the ordinary role it creates, which holds only the
# grants the first block gives (nothing of lifecycle's).
set -u
. "$(dirname "$0")/tap.bash"
readme="$(dirname "$0")/../../README.md"
db=lifecycle_readme
block() {	# the Nth ```sql block of the quick start section
	awk -v want="$1" '/^## Quick start/ { on = 1; next } /^## / { on = 0 }
		on && /^```sql/ { n++; inside = (n == want); next } on && /^```/ { inside = 0; next }
		inside { print }' "$readme"
}
dropdb --if-exists $db 2>/dev/null
psql -X -q -d postgres -c "DROP ROLE IF EXISTS analyst" 2>/dev/null
createdb $db
gen=$(mktemp)
gcc -O2 -o "$gen" bench/generate.c -lm
psql -X -q -v ON_ERROR_STOP=1 -d $db \
	-c 'CREATE TABLE public.orders (customer_id bigint, ordered_at timestamptz, amount numeric(12,2))' \
	-c "\\copy public.orders FROM PROGRAM '$gen --customers 2000 2>/dev/null'"
ok $? "a generated store of 2,000 customers in public.orders (bench/generate.c)"
block 1 | psql -X -q -v ON_ERROR_STOP=1 -d $db >/dev/null
ok $? "quick start, block 1 (superuser): extension, role, grants"
out=$(block 2 | psql -X -q -v ON_ERROR_STOP=1 -U analyst -d $db 2>&1)
ok $? "quick start, block 2, as analyst$( [ -n "$out" ] && echo "" )"
echo "$out" | grep -E "ERROR|WARNING" | sed 's/^/# /'
is "$(value $db "SELECT owner || ' ' || models FROM lifecycle.segment_views")" "analyst true" \
	"the view's settings belong to analyst, models switched on by the WHERE'd UPDATE"
is "$(value $db "SELECT string_agg(outcome, ',' ORDER BY run_id) FROM lifecycle.refresh_runs")" "succeeded,succeeded" \
	"the build and the refresh succeeded"
is "$(value $db "SELECT count(*) FILTER (WHERE p_alive IS NOT NULL) > 0 FROM analytics.customer_segments")" "t" \
	"the refresh filled the model columns"
psql -X -q -d $db -c 'DROP SCHEMA analytics CASCADE' -c 'DROP OWNED BY analyst' >/dev/null
dropdb $db; rm -f "$gen"
psql -X -q -d postgres -c 'DROP ROLE analyst'
done_testing
