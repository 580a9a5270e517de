# Shared by tools/test, tools/demo and bench/run: install what lifecycle
# needs, build and install it, and run a throwaway PostgreSQL cluster.
# Source it; it defines functions and sets PG_CONFIG, PGHOST, PGPORT, PGUSER.

PG_MAJOR=${PG_MAJOR:-15}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
PG_BIN=$(dirname "$PG_CONFIG")
export PG_CONFIG

# The Debian packages the build, the tests and the demo use, and those only
# the whole suite (tools/test) needs besides: test/scripts/package.sh builds
# the Debian package, test/scripts/odbc.sh reads a view through psqlODBC.
# tools/pgversion installs both lists in its chroots.
lc_packages() {
	echo "postgresql-$1 postgresql-server-dev-$1 postgresql-$1-pgtap postgresql-$1-cron"
	echo "libtap-parser-sourcehandler-pgtap-perl make gcc"
}
LC_SUITE_PACKAGES="build-essential debhelper postgresql-server-dev-all odbc-postgresql unixodbc python3-pyodbc"

# Install the packages of lc_packages, and any given as arguments.
lc_install_packages() {
	local pkgs="$(lc_packages "$PG_MAJOR") $*"
	local missing=""
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "lifecycle: installing$missing" >&2
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# Build and install the extension into the PostgreSQL installation.
lc_build_install() {
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	make -s PG_CONFIG="$PG_CONFIG" >/dev/null
	$sudo make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# Run a command as the cluster's owner: initdb refuses root, so root hands
# the cluster to the postgres user.
lc_as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Start a throwaway cluster in a new temporary directory, with any extra
# postgresql.conf lines given as arguments.  Sets LC_CLUSTER_DIR.
lc_start_cluster() {
	LC_CLUSTER_DIR=$(mktemp -d /tmp/lifecycle-pg.XXXXXX)
	[ "$(id -u)" = 0 ] && chown postgres: "$LC_CLUSTER_DIR"
	chmod 755 "$LC_CLUSTER_DIR"
	export PGHOST=$LC_CLUSTER_DIR PGPORT=${PGPORT:-54329} PGUSER=postgres PGDATABASE=postgres
	lc_as_owner "$PG_BIN/initdb" -D "$LC_CLUSTER_DIR/data" -U postgres -A trust \
		--no-sync -E UTF8 --locale=C >"$LC_CLUSTER_DIR/initdb.log" 2>&1 ||
		{ cat "$LC_CLUSTER_DIR/initdb.log" >&2; return 1; }
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$LC_CLUSTER_DIR'"
		echo "port = $PGPORT"
		echo "fsync = off"
		echo "max_worker_processes = 16"
		for line in "$@"; do echo "$line"; done
	} >>"$LC_CLUSTER_DIR/data/postgresql.conf"
	lc_as_owner "$PG_BIN/pg_ctl" -D "$LC_CLUSTER_DIR/data" -l "$LC_CLUSTER_DIR/server.log" -w start >/dev/null
}

# Stop the throwaway cluster and remove it.
lc_stop_cluster() {
	[ -n "${LC_CLUSTER_DIR:-}" ] || return 0
	lc_as_owner "$PG_BIN/pg_ctl" -D "$LC_CLUSTER_DIR/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$LC_CLUSTER_DIR"
	LC_CLUSTER_DIR=
}
