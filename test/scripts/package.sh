#!/usr/bin/env bash
# The Debian package: `dpkg-buildpackage -us -uc -b` on a copy of this tree
# (in a temporary directory) builds postgresql-NN-lifecycle; the .deb holds
# the control file, every install and upgrade script and the library, the
# same files `make install` put in place; installed, it gives
# CREATE EXTENSION lifecycle at the control file's default_version, a working
# aggregate, and an update from every released version.
#
# Where it installs.  With the system's PostgreSQL (pg_config's pkglibdir is
# /usr/lib/postgresql/NN/lib, as in CI): dpkg -i, and dpkg -r at the end.
# With a private copy (PG_CONFIG elsewhere, e.g. made by private-pg15):
# the .deb's files are copied under that copy's pkglibdir and sharedir, and
# the system's PostgreSQL is left alone.  Either way the files tools/test had
# installed from this tree are put back afterwards, so the later tests run on
# what they ran on before.
set -u
. "$(dirname "$0")/tap.bash"
root=$(cd "$(dirname "$0")/../.." && pwd)
pg_config=${PG_CONFIG:-pg_config}
major=$("$pg_config" --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')
pkglibdir=$("$pg_config" --pkglibdir) sharedir=$("$pg_config" --sharedir)
package=postgresql-$major-lifecycle
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$root/lifecycle.control")
released=$(ls "$root/install/released/" | sed -n 's/^lifecycle--\(.*\)\.sql$/\1/p')
work=$(mktemp -d /tmp/lifecycle-package.XXXXXX)
db=lifecycle_package
trap 'rm -rf "$work"' EXIT

# Build from a copy: the tracked and new files, as a clone would have them.
mkdir "$work/lifecycle"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$root" && git ls-files -co --exclude-standard -z | tar --null -cf - -T -)
else
	tar -C "$root" --exclude=.git --exclude=bench/data -cf - .
fi | tar -C "$work/lifecycle" -xf -
# debian/control is generated from control.in for the PostgreSQL versions of
# Debian 12 (pg_buildext updatecontrol); on another release, regenerate it in
# the copy as Debian's own builds for other releases do.
committed=$(sed -n 's/^Package: postgresql-\([0-9]*\)-lifecycle$/\1/p' "$root/debian/control" | xargs)
supported=$(cd "$work/lifecycle" && pg_buildext supported-versions | xargs)
if [ "$committed" = "$supported" ]; then
	(cd "$work/lifecycle" && pg_buildext checkcontrol) >"$work/control.log" 2>&1
	ok $? "debian/control is debian/control.in's for PostgreSQL $supported"
else
	echo "# debian/control lists PostgreSQL $committed, this machine supports $supported: regenerated for the build"
	(cd "$work/lifecycle" && pg_buildext updatecontrol) >"$work/control.log" 2>&1
fi
(cd "$work/lifecycle" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1
status=$?
ok $status "dpkg-buildpackage -us -uc -b builds from a copy of the tree"
[ $status = 0 ] || tail -40 "$work/build.log" | sed 's/^/# /'
deb=$(ls "$work/${package}"_*.deb 2>/dev/null | head -1)
[ -n "$deb" ]
ok $? "it made $package"
[ -n "$deb" ] || done_testing

# What the .deb holds: the control file, the library, and exactly the
# scripts the tree makes (released install scripts, the current one, the
# upgrade scripts, whether built from install/upgrades/A--B/ or shipped whole).
dpkg-deb -x "$deb" "$work/deb"
ext=usr/share/postgresql/$major/extension lib=usr/lib/postgresql/$major/lib
expected=$(
	echo lifecycle.control
	for v in $released $current; do echo "lifecycle--$v.sql"; done
	for u in "$root"/install/upgrades/*; do
		[ -e "$u" ] && echo "lifecycle--$(basename "$u" .sql | sed 's/^lifecycle--//').sql"
	done
)
is "$(ls "$work/deb/$ext" | sort | tr '\n' ' ')" "$(sort -u <<<"$expected" | tr '\n' ' ')" \
	"the package has the control file and every install and upgrade script"
[ -f "$work/deb/$lib/lifecycle.so" ]
ok $? "the package has $lib/lifecycle.so"
differ=""
for f in $(ls "$work/deb/$ext"); do cmp -s "$work/deb/$ext/$f" "$sharedir/extension/$f" || differ="$differ $f"; done
is "$differ" "" "its control file and scripts are the ones make install put in place, byte for byte"
is "$(nm -D --defined-only "$work/deb/$lib/lifecycle.so" | awk '{print $NF}' | sort | md5sum)" \
	"$(nm -D --defined-only "$pkglibdir/lifecycle.so" | awk '{print $NF}' | sort | md5sum)" \
	"its library exports the same symbols as the one make install put in place"

# Install: keep what is in place now, then dpkg -i or copy the files.
# in_place FILE: where a file of the .deb (path under usr/) goes here.
in_place() {
	sed "s|^$lib/|$pkglibdir/|; s|^usr/share/postgresql/$major/|$sharedir/|" <<<"$1"
}
files=$(cd "$work/deb" && find usr/lib/postgresql usr/share/postgresql -type f)
(for f in $files; do t=$(in_place "$f"); [ -e "$t" ] && echo "$t"; done) | tar -cPf "$work/before.tar" -T -
sudo=""
if [ "$pkglibdir" = "/$lib" ] && [ "$sharedir" = "/usr/share/postgresql/$major" ]; then
	mode=dpkg
	[ "$(id -u)" = 0 ] || sudo=sudo
	dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" && mode=dpkg-keep
	$sudo dpkg -i "$deb" >"$work/install.log" 2>&1
	status=$?
	ok $status "dpkg -i $(basename "$deb")"
	[ $status = 0 ] || sed 's/^/# /' "$work/install.log"
else
	mode=copy
	status=0
	for f in $files; do
		t=$(in_place "$f")
		mkdir -p "$(dirname "$t")" && cp "$work/deb/$f" "$t" || status=1
	done
	ok $status "the package's files copied into the private PostgreSQL under $(dirname "$pkglibdir")"
fi
cmp -s "$work/deb/$lib/lifecycle.so" "$pkglibdir/lifecycle.so"
ok $? "the library in place is the package's"

dropdb --if-exists $db 2>/dev/null
createdb $db && psql -X -q -v ON_ERROR_STOP=1 -d $db -c 'CREATE EXTENSION lifecycle'
ok $? "CREATE EXTENSION lifecycle from the package"
is "$(value $db "SELECT extversion FROM pg_extension WHERE extname = 'lifecycle'")" "$current" \
	"the installed version is the control file's default_version ($current)"
is "$(value $db "SELECT format('%s %s %s %s', (s).orders, (s).purchase_days, (s).monetary, (s).refunds)
  FROM (SELECT lifecycle.rfm_agg(t, a) AS s
          FROM (VALUES (timestamptz '2026-01-01 10:00+00', 10.50), ('2026-01-01 18:00+00', 4.00),
                       ('2026-01-03 09:00+00', -2.25), ('2026-01-05 12:00+00', 5)) v(t, a)) q")" \
	"3 2 17.25 1" "rfm_agg summarizes orders (3 orders on 2 days, one refund)"
for old in $released; do
	psql -X -q -v ON_ERROR_STOP=1 -d $db -c 'DROP EXTENSION lifecycle' \
		-c "CREATE EXTENSION lifecycle VERSION '$old'" -c 'ALTER EXTENSION lifecycle UPDATE'
	is "$(value $db "SELECT extversion FROM pg_extension WHERE extname = 'lifecycle'")" "$current" \
		"CREATE EXTENSION lifecycle VERSION '$old' and ALTER EXTENSION lifecycle UPDATE give $current"
done
dropdb $db

# Put back what was in place (a package installed before the test stays).
status=0
[ $mode = dpkg ] && { $sudo dpkg -r "$package" >>"$work/install.log" 2>&1 || status=1; }
for f in $files; do $sudo rm -f "$(in_place "$f")"; done
$sudo tar -xPf "$work/before.tar" || status=1
ok $status "the package removed, and the files make install had put in place restored"
done_testing
