# TAP helpers for the shell tests in test/scripts (run by prove from
# tools/test against its throwaway cluster: PGHOST, PGPORT, PGUSER set).
n=0
failed=0

# ok CONDITION-EXIT-STATUS DESCRIPTION
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

# is GOT EXPECTED DESCRIPTION
is() {
	n=$((n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $n - $3"
	else
		echo "not ok $n - $3"
		echo "#   got:      '$1'"
		echo "#   expected: '$2'"
		failed=1
	fi
}

# One value from a query in a database.
value() {
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

done_testing() {
	echo "1..$n"
	exit $failed
}
