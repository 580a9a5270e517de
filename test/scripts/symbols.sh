#!/usr/bin/env bash
# lifecycle.so exports only what PostgreSQL looks up in it: Pg_magic_func,
# _PG_init if there is one, and for every C function an install or upgrade
# script names (AS 'MODULE_PATHNAME', 'X'), X and its info function
# pg_finfo_X.  A helper that leaks fails the test, and so does a referenced
# symbol that is missing.  Every released script counts: CREATE EXTENSION
# lifecycle VERSION '1.0' resolves the frozen 1.0 script's symbols against
# today's library.  Reads the installed library (pg_config --pkglibdir),
# which tools/test has just built and installed from this tree.
set -u
. "$(dirname "$0")/tap.bash"
root=$(dirname "$0")/../..
lib=$("${PG_CONFIG:-pg_config}" --pkglibdir)/lifecycle.so

# The C symbols one SQL script references, one a line: the link symbol of
# every CREATE FUNCTION ... LANGUAGE c, or the function's own name when it
# gives only the library.  "?NAME" for a C function whose symbol this cannot
# read, so that a form it does not know fails rather than passes unchecked.
referenced() {
	perl -0777 -ne '
		s/(^|\s)--[^\n]*/$1/g;
		my @chunks = split /\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE)\b/i;
		shift @chunks;
		for (@chunks) {
			my ($name) = /^\s*(?:"?\w+"?\.)?"?(\w+)"?\s*\(/;
			if (/\bAS\s+\x27(?:MODULE_PATHNAME|\$libdir\/lifecycle)\x27(?:\s*,\s*\x27(\w+)\x27)?/i) {
				print(($1 // $name), "\n");
			} elsif (/\bLANGUAGE\s+\x27?c\x27?(?!\w)/i) {
				print "?$name\n";
			}
		}' "$1"
}

nm -D --defined-only "$lib" >/dev/null
ok $? "nm reads the installed $lib"
exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sort -u)

scripts=$(find "$root/install" -name '*.sql' | sort)
all=""
for script in $scripts; do
	name=${script#"$root/"}
	symbols=$(referenced "$script" | sort -u)
	[ -n "$symbols" ] || continue
	unread=$(grep '^?' <<<"$symbols")
	is "$unread" "" "$name: every LANGUAGE c function names its symbol as AS 'MODULE_PATHNAME', 'X'"
	missing=""
	for s in $(grep -v '^?' <<<"$symbols"); do
		grep -qx "$s" <<<"$exported" || missing="$missing $s"
		grep -qx "pg_finfo_$s" <<<"$exported" || missing="$missing pg_finfo_$s"
	done
	is "$missing" "" "$name: the $(wc -l <<<"$symbols") C symbols it references are exported, each with its info function"
	[ -z "$missing" ] || echo "# before PostgreSQL 16, a file with PG_FUNCTION_INFO_V1 must include compat.h"
	all="$all $symbols"
done
[ -n "$all" ]
ok $? "the install scripts reference C functions (the parse found some)"

allowed=$( (echo Pg_magic_func; echo _PG_init; for s in $all; do echo "$s"; echo "pg_finfo_$s"; done) | sort -u)
leaked=$(comm -23 <(echo "$exported") <(echo "$allowed") | tr '\n' ' ')
is "$leaked" "" "nothing else is exported (no helper leaks into the backends' namespace)"
grep -qx Pg_magic_func <<<"$exported"
ok $? "Pg_magic_func is exported"
done_testing
