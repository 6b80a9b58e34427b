#!/bin/bash
# make-deb.sh OUT - build the Debian package from debian/ (`make deb`).
#
# dpkg-buildpackage writes its results beside the source tree, so it runs
# on a copy of the tree in OUT/src (the checkout's build folders, .git and
# fuzz output left out) and the results are moved to OUT: the .deb, the
# .changes and .buildinfo, and lintian.txt, lintian's report.  Then
# tests/check_deb.py checks the package; it fails on any lintian error
# (warnings are only shown).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/deb}

# What building the package needs beyond what building the code needs.
bash tests/install-deps.sh debhelper dpkg-dev fakeroot lintian
dpkg-checkbuilddeps

version=$(dpkg-parsechangelog -S Version)
src=$OUT/src/libpam-portal-$version
# What an earlier run made.
rm -rf "$OUT/src" "$OUT"/*.deb "$OUT"/*.changes "$OUT"/*.buildinfo "$OUT"/*.txt "$OUT"/*.log
mkdir -p "$src"
tar --exclude=./.git --exclude=./build --exclude='./build-*' --exclude=./fuzz-out \
	-cf - . | tar -xf - -C "$src"

echo "make-deb: dpkg-buildpackage -us -uc -b in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b -J) >"$OUT/build.log" 2>&1 || {
	tail -40 "$OUT/build.log" >&2
	echo "make-deb: dpkg-buildpackage failed; the whole log is $OUT/build.log" >&2
	exit 1
}
mv "$OUT"/src/*.deb "$OUT"/src/*.changes "$OUT"/src/*.buildinfo "$OUT"/
rm -rf "$OUT/src"

changes=$(ls "$OUT"/*.changes)
lintian --info "$changes" >"$OUT/lintian.txt" 2>&1 || true
grep -v '^N:' "$OUT/lintian.txt" || true
ls -l "$OUT"/*.deb
# The package's files, conffiles, dependencies, maintainer scripts, and
# no lintian error.
python3 tests/check_deb.py "$OUT"
