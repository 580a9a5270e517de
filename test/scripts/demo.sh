#!/usr/bin/env bash
# The demo report runs end to end on a small generated store and prints every
# section (the numbers themselves are checked by sql/segment_view*.sql).
set -u
. "$(dirname "$0")/tap.bash"
db=lifecycle_demo
dropdb --if-exists $db 2>/dev/null; createdb $db
gen=$(mktemp)
gcc -O2 -o "$gen" bench/generate.c -lm
ok $? "bench/generate.c compiles"
psql -X -q -v ON_ERROR_STOP=1 -d $db \
	-c 'CREATE EXTENSION lifecycle' \
	-c 'CREATE TABLE orders (customer_id bigint, ordered_at timestamptz, amount numeric(12,2))' \
	-c "\\copy orders FROM PROGRAM '$gen --customers 2000 2>/dev/null'"
ok $? "a generated store of 2,000 customers"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $db -v orders=orders -v customer=customer_id -v time=ordered_at \
	-v amount=amount -v zone=UTC -v as_of=2025-12-31 -v view=customer_segments -f demo/report.sql 2>&1)
ok $? "demo/report.sql runs"
for section in "The store" "Customers by lifecycle stage" "RFM segments" "Retention, last six months" \
	"Stage transitions over the last 90 days" "Purchase models fitted" "In words: while active, a customer buys about every" \
	"most worth a win-back campaign"; do
	grep -q "$section" <<<"$out"
	ok $? "prints: $section"
done
is "$(value $db "SELECT as_of || ' ' || customers FROM lifecycle.refresh_runs ORDER BY run_id DESC LIMIT 1")" \
	"2025-12-31 $(value $db "SELECT count(DISTINCT customer_id) FROM orders WHERE ordered_at < '2026-01-01'")" \
	"the report's view holds every customer as of 2025-12-31"
is "$(value $db "SELECT (purchases).converged AND (spend).converged FROM lifecycle.model_history ORDER BY run_id DESC LIMIT 1")" \
	"t" "both purchase models converge on the generated store"
# Coherent by default (score method bands): no dormant or churned customer is
# named for present value, no active customer is Lost, under both shipped rule sets.
contradictions="SELECT count(*) FROM customer_segments
                 WHERE (stage IN ('dormant', 'churned') AND segment IN ('Champions', 'Loyal Customers',
                        'Potential Loyalist', 'Promising', 'New Customers'))
                    OR (stage = 'active' AND segment = 'Lost')"
is "$(value $db "SELECT count(*) > 1000 FROM customer_segments WHERE segment IS NOT NULL")" "t" "the view has segments to check"
is "$(value $db "$contradictions")" "0" "default rule set: segments agree with stages"
value $db "UPDATE lifecycle.segment_views SET rule_set = 'classic'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CALL lifecycle.refresh_segment_view('customer_segments')"
is "$(value $db "$contradictions")" "0" "classic rule set: segments agree with stages"
value $db "UPDATE lifecycle.segment_views SET score_method = 'quantile'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CALL lifecycle.refresh_segment_view('customer_segments')"
is "$(value $db "SELECT ($contradictions) > 0")" "t" \
	"quantile (still available) names dormant or churned customers for present value: why bands is the default"
dropdb $db; rm -f "$gen"
done_testing
