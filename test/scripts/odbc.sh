#!/usr/bin/env bash
# Through a real driver, as BI tools connect: psqlODBC (Debian's
# odbc-postgresql, with unixODBC and pyodbc).  A stage filter bound as a
# varchar parameter works, and stage, segment and action names arrive as
# strings (varchar), not as a memo type.  (psqlODBC sends parameters
# untyped; typed varchar and text parameters, as JDBC sends them, are tested
# with PREPARE in sql/segment_view_limits.sql.)
set -u
. "$(dirname "$0")/tap.bash"
db=lifecycle_odbc
dropdb --if-exists $db 2>/dev/null; createdb $db
psql -X -q -v ON_ERROR_STOP=1 -d $db >/dev/null <<'SQL'
CREATE EXTENSION lifecycle;
CREATE TABLE orders (customer_id int, ordered_at date, amount numeric(10,2));
INSERT INTO orders SELECT i % 100, date '2024-01-01' + (i * 7) % 600, 10 + i % 9 FROM generate_series(1, 2000) i;
SELECT lifecycle.create_segment_view('segs', 'orders', 'customer_id', 'ordered_at', 'amount', as_of => '2025-12-31');
SQL
ok $? "a segment view"
conn="DRIVER={PostgreSQL Unicode};SERVER=$PGHOST;PORT=$PGPORT;DATABASE=$db;UID=$PGUSER;TextAsLongVarchar=1"
out=$(/usr/bin/python3 "$(dirname "$0")/../reference/odbc_check.py" "$conn" public.segs 2>&1)
ok $? "psqlODBC connects and runs the checks$( [ $? = 0 ] || echo ": $out")"
field() { awk -v k="$1" '$1 == k { print $2 }' <<<"$out"; }
is "$(field bound_varchar_filter)" "$(value $db "SELECT count(*) FROM segs WHERE stage = 'churned'")" \
	"WHERE stage = ? with a varchar parameter finds the churned customers"
is "$(field bound_in_filter)" "$(value $db "SELECT count(*) FROM segs WHERE stage IN ('churned', 'dormant')")" \
	"WHERE stage IN (?, ?) with varchar parameters"
for c in stage segment recommended_action; do
	is "$(field odbc_type_$c)" "varchar" "the driver reports $c as varchar, not a memo (text) type"
done
for c in aov mean_interval_days; do
	is "$(field odbc_size_$c)" "38,2" "the driver reports $c as numeric of size 38, scale 2 (not size 0)"
done
dropdb $db
done_testing
