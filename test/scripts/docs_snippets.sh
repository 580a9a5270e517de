#!/usr/bin/env bash
# Every ```sql block of README.md and docs/*.md runs as written (issue 12):
# each file's blocks in order, in a database of its own made from one
# fixture of the documented sample data, each block through psql with
# ON_ERROR_STOP from the repository's root (docs/cohorts.md's \copy reads
# test/fixtures/), as the superuser; any error fails the block.
#
# The fixture: the extension; a generated store (bench/generate.c, 2,000
# customers) in public.orders (customer_id, ordered_at, amount), the names
# the docs use; public.customers (id, signed_up_at), its customers; the
# schemas analytics and shop (shop.orders, a view of public.orders); the
# roles analyst and bi_reader the docs grant to.
#
# A block can be marked on the line right before its ```sql fence:
#   <!-- docs_snippets: skip: WHY -->      not run (say why, and what runs
#                                           it instead; keep them few)
#   <!-- docs_snippets: first FILE N -->   run block N of FILE first (a block
#                                           that reads what another chapter
#                                           made, e.g. the segment view)
# Synopses that are not SQL (function signatures) are fenced ```text, not
# ```sql, so that they are not run.
set -u
. "$(dirname "$0")/tap.bash"
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
fixture=lifecycle_docs_fixture
files="README.md $(ls docs/*.md)"

# The SQL of block N of FILE.
block() {
	awk -v want="$2" '/^```sql/ { n++; inside = (n == want); next } /^```/ { inside = 0; next }
		inside { print }' "$1"
}
# The docs_snippets marker of each block of FILE, one line per block (empty
# when unmarked).
markers() {
	awk '/^```sql/ { print (prev ~ /^<!-- docs_snippets:/ ? prev : ""); }
		{ if ($0 !~ /^[[:space:]]*$/) prev = $0 }' "$1" |
		sed 's/^<!-- docs_snippets: *//; s/ *-->$//'
}
run_block() {	# DB FILE N: the block's errors on stdout, exit status psql's
	block "$2" "$3" | psql -X -q -v ON_ERROR_STOP=1 -d "$1" 2>&1 >/dev/null
}

cleanup() {
	for db in $(psql -X -At -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'lifecycle_docs%'"); do
		psql -X -q -d "$db" -c 'DROP OWNED BY analyst, bi_reader' >/dev/null 2>&1
		dropdb "$db"
	done
	psql -X -q -d postgres -c 'DROP ROLE IF EXISTS analyst' -c 'DROP ROLE IF EXISTS bi_reader' 2>/dev/null
}
cleanup
gen=$(mktemp)
gcc -O2 -o "$gen" bench/generate.c -lm
createdb $fixture
psql -X -q -v ON_ERROR_STOP=1 -d $fixture >/dev/null <<SQL
CREATE ROLE analyst LOGIN;
CREATE ROLE bi_reader LOGIN;
CREATE EXTENSION lifecycle;
CREATE TABLE public.orders (customer_id bigint, ordered_at timestamptz, amount numeric(12,2));
\\copy public.orders FROM PROGRAM '$gen --customers 2000 2>/dev/null'
CREATE TABLE public.customers AS
SELECT customer_id AS id, min(ordered_at) - interval '1 day' AS signed_up_at FROM public.orders GROUP BY 1;
CREATE SCHEMA analytics;
CREATE SCHEMA shop;
CREATE VIEW shop.orders AS SELECT * FROM public.orders;
SQL
ok $? "fixture: a generated store of 2,000 customers, customers, schemas analytics and shop, roles analyst and bi_reader"
rm -f "$gen"

for file in $files; do
	db=lifecycle_docs_$(echo "$file" | tr -c 'a-z0-9\n' '_' | tr -d '\n')
	createdb -T $fixture "$db"
	i=0
	while IFS= read -r marker; do
		i=$((i + 1))
		case "$marker" in
		skip:*)
			n=$((n + 1)); echo "ok $n - $file block $i # skip ${marker#skip: }"; continue ;;
		first\ *)
			set -- $marker
			out=$(run_block "$db" "$2" "$3")
			[ $? = 0 ] || { echo "# $2 block $3 (run first) failed:"; echo "$out" | sed 's/^/#   /'; } ;;
		esac
		out=$(run_block "$db" "$file" $i)
		ok $? "$file block $i runs as written"
		[ -z "$out" ] || echo "$out" | grep -E "ERROR|DETAIL|HINT|LINE" | sed 's/^/#   /'
	done < <(markers "$file")
	psql -X -q -d "$db" -c 'DROP OWNED BY analyst, bi_reader' >/dev/null 2>&1
	dropdb "$db"
done
dropdb $fixture
psql -X -q -d postgres -c 'DROP ROLE analyst' -c 'DROP ROLE bi_reader'
done_testing
