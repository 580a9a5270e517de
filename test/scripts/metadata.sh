#!/usr/bin/env bash
# The release metadata agrees with lifecycle.control: META.json (PGXN, meta
# spec 1.0.0), the Makefile's EXTVERSION, debian/changelog's upstream version,
# debian/pgversions and CHANGELOG.md.  A version X.Y of the extension is
# X.Y.0 for PGXN and Debian.  Needs no cluster.
set -u
. "$(dirname "$0")/tap.bash"
root=$(dirname "$0")/../..
control() { sed -n "s/^$1 = '\(.*\)'$/\1/p" "$root/lifecycle.control"; }
version=$(control default_version)
comment=$(control comment)
semver=$version
[[ $semver =~ ^[0-9]+\.[0-9]+$ ]] && semver=$semver.0

# META.json's fields, one "path=value" a line.
meta=$(perl -MJSON::PP -e '
	local $/;
	my $m = JSON::PP->new->decode(<STDIN>);
	my $p = $m->{provides}{lifecycle} // {};
	print "meta-spec=$m->{q(meta-spec)}{version}\n";
	print "$_=", $m->{$_} // "", "\n" for qw(name abstract version maintainer license);
	print "provides=", join(",", sort keys %{$m->{provides}}), "\n";
	print "provides.$_=", $p->{$_} // "", "\n" for qw(abstract file version);
	print "PostgreSQL=", $m->{prereqs}{runtime}{requires}{PostgreSQL} // "", "\n";
' <"$root/META.json")
ok $? "META.json is JSON"
field() { sed -n "s/^$1=//p" <<<"$meta"; }

is "$(field meta-spec)" "1.0.0" "META.json follows the PGXN meta spec 1.0.0"
is "$(field name)" "lifecycle" "META.json: name is the extension's"
is "$(field provides)" "lifecycle" "META.json: it provides the extension lifecycle"
is "$(field abstract)" "$comment" "META.json: abstract is the control file's comment"
is "$(field provides.abstract)" "$comment" "META.json: the extension's abstract is the control file's comment"
is "$(field version)" "$semver" "META.json: version is default_version $version as X.Y.Z"
is "$(field provides.version)" "$semver" "META.json: the extension's version too"
is "$(field provides.file)" "lifecycle--$version.sql" "META.json: the extension's file is the current install script"
[ -n "$(field maintainer)" ]
ok $? "META.json: names a maintainer"
is "$(field license)" "postgresql" "META.json: license postgresql"
head -n 1 "$root/LICENSE" | grep -qx "PostgreSQL License"
ok $? "LICENSE is the PostgreSQL License"

is "$(sed -n 's/^EXTVERSION[[:space:]]*=[[:space:]]*//p' "$root/Makefile")" "$version" \
	"the Makefile's EXTVERSION is default_version"
upstream=$(head -n 1 "$root/debian/changelog" | sed -n 's/^[^ ]* (\([0-9]*:\)\{0,1\}\([^)]*\)).*/\2/p' | sed 's/-[^-]*$//')
is "$upstream" "$semver" "debian/changelog's upstream version is default_version as X.Y.Z"
oldest=$(grep -v '^#' "$root/debian/pgversions" | sed -n 's/^\([0-9]*\)+$/\1/p' | head -n 1)
is "$(field PostgreSQL)" "$oldest.0.0" "META.json requires the PostgreSQL that debian/pgversions starts at ($oldest+)"
grep -q "^## $version\b" "$root/CHANGELOG.md"
ok $? "CHANGELOG.md has a section for $version"
done_testing
