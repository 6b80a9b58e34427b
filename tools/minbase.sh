#!/bin/bash
# minbase.sh TARBALL DIR - a clean Debian root in the empty folder DIR, for
# `make deb-test` (tests/check_deb_root.py) and `make fresh-test`
# (tests/fresh-test.sh).
#
# The root is a debootstrap --variant=minbase of this machine's own release
# and first Debian mirror, made once (a minute and a half) and kept as
# TARBALL; unpacking it again takes seconds.  DIR is left mode 0755, not
# mktemp's 0700: it is the root's "/", which every account must traverse.
# Needs root, debootstrap and the network to the mirror.
set -euo pipefail
TARBALL=$1 DIR=$2

# The first mirror of the apt sources, deb822 or one-line form.
mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] && sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$f"
	done
	[[ -r /etc/apt/sources.list ]] &&
		sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' \
			/etc/apt/sources.list
}

if [[ ! -e $TARBALL ]]; then
	url=$(mirror | grep -m1 -v -e '-security' || true)
	suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	if [[ -z $url || -z $suite ]]; then
		echo "minbase: no Debian mirror in the apt sources, or no release name" >&2
		exit 1
	fi
	echo "minbase: debootstrap --variant=minbase $suite from $url (once; kept as $TARBALL)"
	log=$(mktemp)
	if ! debootstrap --variant=minbase "$suite" "$DIR" "$url" >"$log" 2>&1; then
		tail -20 "$log" >&2
		rm -f "$log"
		echo "minbase: debootstrap failed" >&2
		exit 1
	fi
	rm -f "$log"
	mkdir -p "$(dirname "$TARBALL")"
	tar -C "$DIR" -cf "$TARBALL.part" .
	mv -f "$TARBALL.part" "$TARBALL"
else
	tar -C "$DIR" -xf "$TARBALL"
fi
chmod 0755 "$DIR"
cp /etc/resolv.conf "$DIR/etc/resolv.conf"
