#!/usr/bin/env bash
# pg_dump / pg_restore keeps a segment view, its settings, a custom rule set
# and the refresh history; after a refresh the restored view has the same rows.
set -u
. "$(dirname "$0")/tap.bash"
src=lifecycle_dump_src dst=lifecycle_dump_dst dump=$(mktemp)
dropdb --if-exists $src; dropdb --if-exists $dst
createdb $src
psql -X -q -v ON_ERROR_STOP=1 -d $src <<'SQL'
CREATE EXTENSION lifecycle;
CREATE TABLE orders (customer_id bigint, ordered_at timestamptz, amount numeric(10,2));
INSERT INTO orders SELECT i % 300, timestamptz '2024-01-01 10:00+00' + (i * 7 % 700) * interval '1 day', (i % 90) - 3
  FROM generate_series(1, 5000) i;
INSERT INTO lifecycle.segment_rules (rule_set, position, segment, r_min, r_max, f_min, f_max, m_min, m_max)
VALUES ('mine', 1, 'Best', 4, 5, 4, 5, 4, 5), ('mine', 2, 'Rest', 1, 5, 1, 5, 1, 5);
SELECT lifecycle.create_segment_view('segs', 'orders', 'customer_id', 'ordered_at', 'amount',
         as_of => '2025-10-01', churn_days => 300, rule_set => 'mine', time_zone => 'Europe/Paris');
UPDATE lifecycle.segment_views SET as_of = '2025-11-01';
CALL lifecycle.refresh_segment_view('segs');
SQL
ok $? "source database with a segment view, custom settings and rule set"
pg_dump -Fc -f "$dump" $src
ok $? "pg_dump -Fc"
createdb $dst
pg_restore -d $dst "$dump" 2>"$dump.err"
ok $? "pg_restore into a new database$( [ -s "$dump.err" ] && echo ": $(head -c 300 "$dump.err" | tr '\n' ' ')")"
is "$(value $dst "SELECT churn_days || ' ' || rule_set || ' ' || time_zone || ' ' || as_of FROM lifecycle.segment_views")" \
	"300 mine Europe/Paris 2025-11-01" "settings restored"
is "$(value $dst "SELECT string_agg(segment, ',' ORDER BY position) FROM lifecycle.segment_rules WHERE rule_set = 'mine'")" \
	"Best,Rest" "custom rule set restored"
is "$(value $dst "SELECT count(*) FROM lifecycle.segment_rules WHERE shipped")" \
	"$(value $src "SELECT count(*) FROM lifecycle.segment_rules WHERE shipped")" "shipped rule sets once, not twice"
is "$(value $dst "SELECT string_agg(outcome || ':' || as_of, ',' ORDER BY run_id) FROM lifecycle.refresh_runs")" \
	"succeeded:2025-10-01,succeeded:2025-11-01" "refresh history restored"
is "$(value $dst "SELECT count(*) FROM lifecycle.stage_history")" "$(value $src "SELECT count(*) FROM lifecycle.stage_history")" \
	"stage history restored"
psql -X -q -v ON_ERROR_STOP=1 -d $dst -c "CALL lifecycle.refresh_segment_view('segs')"
ok $? "the restored view refreshes"
rows="SELECT md5(string_agg(s::text, '|' ORDER BY customer_id)) FROM segs s"
is "$(value $dst "$rows")" "$(value $src "$rows")" "same view contents after refresh"
is "$(value $dst "SELECT count(*) FROM lifecycle.refresh_runs")" "3" "the new refresh is recorded after the restored ones"
dropdb $src; dropdb $dst; rm -f "$dump" "$dump.err"
done_testing
