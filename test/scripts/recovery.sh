#!/usr/bin/env bash
# Parameter recovery (issue 5): exact histories of 1,000,000 customers drawn
# by bench/generate.c from known BG/NBD and Gamma-Gamma parameters; every
# fitted parameter must lie within 3 of its standard errors of the truth.
set -u
. "$(dirname "$0")/tap.bash"
db=lifecycle_recovery
dropdb --if-exists $db 2>/dev/null; createdb $db
dir=$(mktemp -d)
chmod 755 "$dir"
gcc -O2 -o "$dir/generate" bench/generate.c -lm
ok $? "bench/generate.c compiles"
"$dir/generate" --customers 1000000 --histories "$dir/histories.tsv" >/dev/null 2>&1
ok $? "1,000,000 customers' histories generated"
chmod 644 "$dir/histories.tsv"
psql -X -q -v ON_ERROR_STOP=1 -d $db \
	-c 'CREATE EXTENSION lifecycle' \
	-c 'CREATE TABLE histories (customer_id bigint, frequency integer, recency float8, t float8, monetary_value float8)' \
	-c "\\copy histories FROM '$dir/histories.tsv'"
ok $? "histories loaded"
# The true parameters, as the generator prints them (alpha per day).
declare -A truth
while read -r name v; do truth[$name]=$v; done < <("$dir/generate" --params)

# recovered NAME ESTIMATE SE TRUE: |estimate - true| <= 3 SE
recovered() {
	local verdict
	verdict=$(awk -v e="$2" -v s="$3" -v t="$4" 'BEGIN { d = e - t; if (d < 0) d = -d; print (s > 0 && d <= 3 * s) ? 0 : 1 }')
	ok "$verdict" "$1 = $2 (SE $3), true $4: within 3 standard errors"
}
read -r r r_se alpha alpha_se a a_se b b_se converged <<<"$(value $db \
	"SELECT r, r_se, alpha, alpha_se, a, a_se, b, b_se, converged FROM (SELECT (lifecycle.bgnbd_fit(frequency, recency, t)).* FROM histories) f" | tr '|' ' ')"
is "$converged" t "BG/NBD converges"
recovered "BG/NBD r" "$r" "$r_se" "${truth[bgnbd_r]}"
recovered "BG/NBD alpha (days)" "$alpha" "$alpha_se" "${truth[bgnbd_alpha_days]}"
recovered "BG/NBD a" "$a" "$a_se" "${truth[bgnbd_a]}"
recovered "BG/NBD b" "$b" "$b_se" "${truth[bgnbd_b]}"
read -r p p_se q q_se gamma gamma_se converged <<<"$(value $db \
	"SELECT p, p_se, q, q_se, gamma, gamma_se, converged FROM (SELECT (lifecycle.gammagamma_fit(frequency, monetary_value)).* FROM histories) f" | tr '|' ' ')"
is "$converged" t "Gamma-Gamma converges"
recovered "Gamma-Gamma p" "$p" "$p_se" "${truth[gg_p]}"
recovered "Gamma-Gamma q" "$q" "$q_se" "${truth[gg_q]}"
recovered "Gamma-Gamma gamma" "$gamma" "$gamma_se" "${truth[gg_gamma]}"
dropdb $db; rm -rf "$dir"
done_testing
