#!/bin/bash
# install-deps.sh - install what building and testing pam_portal needs on
# Debian 12, and nothing when it is all there (dpkg-query first, so that
# `make check` on a ready machine does not touch the network).
#
# As root: apt-get install what is missing.  As anyone else: say what is
# missing and fail, since guessing at sudo would hang a CI job on a prompt.
#
# Packages named as arguments are wanted too (tools/make-deb.sh asks for
# what building the Debian package needs, which make check does not).
set -euo pipefail

PACKAGES=(build-essential pkg-config libpam0g-dev libsodium-dev libesmtp-dev
          libgdbm-dev libpwquality-dev cracklib-runtime libutf8proc-dev libzxcvbn-dev
          python3 python3-aiosmtpd
          valgrind libpam-pwquality clang libclang-rt-14-dev
          openssh-server openssh-client python3-pexpect python3-gdbm)
# groff-base, gettext and systemd: the man page, translation and unit checks
# (man-db: systemd-analyze verify runs man for the unit's Documentation=);
# openssl: unit_outbox makes its test certificate with it.
PACKAGES+=(groff-base gettext systemd man-db openssl)
# libpq-dev: portald's PostgreSQL backend; postgresql-15: the private
# servers of the tests (tests/pgserver.py: initdb and pg_ctl in a temporary
# folder).  Debian's package makes and starts a cluster of its own; the
# tests never use it.
PACKAGES+=(libpq-dev postgresql-15)
# libldap-dev: portald's directory = ldap; slapd and ldap-utils: the tests'
# own directory server (tests/ldapserver.py), never the system's service.
PACKAGES+=(libldap-dev slapd ldap-utils "$@")
DICT=/var/cache/cracklib/cracklib_dict.pwd

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
	if ((EUID != 0)); then
		echo "install-deps: missing packages: ${missing[*]}" >&2
		echo "install-deps: run as root: apt-get install --no-install-recommends ${missing[*]}" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# The package lists may never have been fetched (fresh containers).
	if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
		apt-get update
		apt-get install -y --no-install-recommends "${missing[@]}"
	fi
fi

# Debian starts the slapd it installs, with a directory of its own: the
# tests start theirs, and need nobody else's.  Stopped and disabled once,
# when this script installed it (never touching /etc/ldap).
if [[ " ${missing[*]:-} " == *" slapd "* ]]; then
	systemctl disable --now slapd >/dev/null 2>&1 || service slapd stop >/dev/null 2>&1 || true
fi

# libpwquality's common-password check needs cracklib's dictionary, which
# cracklib-runtime builds by a trigger that minimal images sometimes skip.
if [[ ! -e $DICT ]]; then
	if ((EUID != 0)); then
		echo "install-deps: $DICT is missing; as root run update-cracklib" >&2
		exit 1
	fi
	echo "install-deps: building cracklib's dictionary"
	if [[ -r /usr/share/dict/cracklib-small ]]; then
		create-cracklib-dict /usr/share/dict/cracklib-small >/dev/null
	else
		update-cracklib >/dev/null
	fi
	[[ -e $DICT ]] || { echo "install-deps: $DICT still missing" >&2; exit 1; }
fi
