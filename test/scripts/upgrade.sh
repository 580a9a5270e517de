#!/usr/bin/env bash
# ALTER EXTENSION lifecycle UPDATE from every released version gives exactly
# the objects of a fresh install of the current one (every definition, body,
# comment, privilege and policy: extension_objects.sql), keeps the data a
# user made under the old version (a segment view, its history, a custom
# rule set), and the old view keeps refreshing.
set -u
. "$(dirname "$0")/tap.bash"
here=$(dirname "$0")
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$here/../../lifecycle.control")
fresh=lifecycle_upgrade_fresh difference=$(mktemp)
objects() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -f "$here/extension_objects.sql"; }
shipped="SELECT string_agg(format('%s', r), ';' ORDER BY rule_set, position) FROM lifecycle.segment_rules r WHERE shipped"

dropdb --if-exists $fresh 2>/dev/null
createdb $fresh && psql -X -q -d $fresh -c 'CREATE EXTENSION lifecycle'
ok $? "fresh install of $current"

for old in $(ls "$here/../../install/released/" | sed -n 's/^lifecycle--\(.*\)\.sql$/\1/p'); do
	db=lifecycle_upgrade_from_${old//./_}
	dropdb --if-exists $db 2>/dev/null
	createdb $db
	psql -X -q -v ON_ERROR_STOP=1 -d $db >/dev/null <<SQL
CREATE EXTENSION lifecycle VERSION '$old';
CREATE TABLE orders (customer_id bigint, ordered_at timestamptz, amount numeric(10,2));
INSERT INTO orders SELECT i % 300, timestamptz '2024-01-01 10:00+00' + (i * 7 % 700) * interval '1 day', (i % 90) - 3
  FROM generate_series(1, 5000) i;
INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max)
VALUES ('mine', 1, 'Best', 4, 5, 4, 5, 4, 5), ('mine', 2, 'Rest', 1, 5, 1, 5, 1, 5);
SELECT lifecycle.create_segment_view('segs', 'orders', 'customer_id', 'ordered_at', 'amount',
         as_of => '2025-10-01', rule_set => 'mine', time_zone => 'Europe/Paris');
UPDATE lifecycle.segment_views SET as_of = '2025-11-01';
CALL lifecycle.refresh_segment_view('segs');
GRANT SELECT ON segs_retention_monthly TO PUBLIC;
SQL
	ok $? "$old: installed, with a segment view refreshed once and a custom rule set"
	before=$(value $db "SELECT md5(string_agg(s::text, '|' ORDER BY customer_id)) FROM segs s")
	# the monthly companion: its rates in percent (2 decimals) after the update
	monthly="SELECT relacl::text || ' ' || obj_description(oid, 'pg_class') FROM pg_class WHERE oid = 'segs_retention_monthly'::regclass"
	monthly_before=$(value $db "$monthly")
	rates=$(value $db "SELECT string_agg(round(100 * repeat_purchase_rate, 2)::text, ',' ORDER BY month) FROM segs_retention_monthly")
	psql -X -q -v ON_ERROR_STOP=1 -d $db -c 'ALTER EXTENSION lifecycle UPDATE'
	ok $? "$old: ALTER EXTENSION lifecycle UPDATE"
	is "$(value $db "SELECT extversion FROM pg_extension WHERE extname = 'lifecycle'")" "$current" "$old: now at $current"
	diff <(objects $fresh) <(objects $db) >"$difference"
	ok $? "$old: every object equals a fresh $current install"
	head -c 4000 "$difference" | sed 's/^/# /'
	is "$(value $db "$shipped")" "$(value $fresh "$shipped")" "$old: the shipped rule sets equal a fresh install's"
	is "$(value $db "SELECT string_agg(segment, ',' ORDER BY position) FROM lifecycle.segment_rules WHERE rule_set = 'mine'")" \
		"Best,Rest" "$old: the custom rule set is kept"
	is "$(value $db "SELECT md5(string_agg(s::text, '|' ORDER BY customer_id)) FROM segs s")" "$before" \
		"$old: the view's contents are untouched by the update"
	is "$(value $db "SELECT string_agg(repeat_purchase_rate_pct::text, ',' ORDER BY month) FROM segs_retention_monthly")" \
		"$rates" "$old: the monthly companion gives its repeat purchase rate in percent, as repeat_purchase_rate_pct"
	is "$(value $db "$monthly")" "$monthly_before" "$old: the monthly companion keeps its privileges and comment"
	is "$(value $db "SELECT count(*) FROM pg_depend WHERE objid = 'segs_retention_monthly'::regclass AND deptype = 'e'")" 0 \
		"$old: the monthly companion is not part of the extension"
	psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CALL lifecycle.refresh_segment_view('segs')"
	ok $? "$old: the view made under $old refreshes after the update"
	is "$(value $db "SELECT string_agg(outcome || ':' || as_of, ',' ORDER BY run_id) FROM lifecycle.refresh_runs")" \
		"succeeded:2025-10-01,succeeded:2025-11-01,succeeded:2025-11-01" "$old: its history is intact and the new refresh recorded"
	is "$(value $db "SELECT md5(string_agg(s::text, '|' ORDER BY customer_id)) FROM segs s")" "$before" \
		"$old: the refreshed view has the same rows as before the update"
	dropdb $db
done
dropdb $fresh; rm -f "$difference"
done_testing
