#!/bin/bash
# fresh-test.sh (make fresh-test) - what a newcomer meets on a fresh Debian
# 12 machine: in a clean minbase root (tools/minbase.sh, cached as
# $BUILD/minbase.tar), install git and make, clone the repository into
# /root (mode 0700, as root's home is), then `make demo` without a
# terminal and `make check`, each as typed, nothing run before.  It passes
# when make check's last line is "N passed, 0 failed".
#
# What is cloned is the checkout's HEAD: uncommitted changes are not in it.
# Needs root and the Debian mirror; takes about as long as make check plus
# the packages.  The whole output is also in $BUILD/fresh-test.log.
#
# The root runs in a mount and PID namespace of its own (unshare): the root
# bound onto itself (the tests' own private mount namespaces need it to be
# a mount point), /proc, /sys, /dev (with /dev/pts) and a /run tmpfs are
# mounted there only, so they go away with the namespace, whatever ends
# it, and every process in it dies with it.  The root itself is removed on
# exit, also when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD=${BUILD:-build}
mkdir -p "$BUILD"
LOG=$SRC/$BUILD/fresh-test.log

if ((EUID != 0)); then
	echo "fresh-test: needs root (debootstrap, chroot, mounts)" >&2
	exit 1
fi
bash tests/install-deps.sh debootstrap git

ROOTFS=$(mktemp -d "${TMPDIR:-/tmp}/portal-fresh.XXXXXX")
NS_PID=
cleanup() {
	trap - EXIT INT TERM HUP
	if [[ -n $NS_PID ]]; then
		kill -KILL "$NS_PID" 2>/dev/null || true
		wait "$NS_PID" 2>/dev/null || true
	fi
	[[ -z ${TAIL_PID:-} ]] || kill "$TAIL_PID" 2>/dev/null || true
	# The mounts were the namespace's: none is left here to cross.
	rm -rf --one-file-system "$ROOTFS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

bash tools/minbase.sh "$SRC/$BUILD/minbase.tar" "$ROOTFS"
head=$(git rev-parse --short HEAD)
[[ -z $(git status --porcelain --untracked-files=no) ]] ||
	echo "fresh-test: uncommitted changes are not tested, only HEAD ($head)"
git clone -q --bare "$SRC" "$ROOTFS/srv/pam_portal.git"
# The root shares this machine's network: the packages it installs
# (openssh-server) must not start their daemons there, as in any chroot.
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"

# $1 the root.  Runs as PID 1 of the new namespaces.
MOUNTS='
r=$1
mount --bind "$r" "$r"
mount -t proc proc "$r/proc"
mount --rbind /sys "$r/sys"
mount --rbind /dev "$r/dev"
mount -t tmpfs -o mode=0755 fresh "$r/run"
exec chroot "$r" /usr/bin/env -i HOME=/root USER=root LOGNAME=root TERM=dumb \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -c "$2"
'
# What the newcomer types, in the root.
NEWCOMER='
set -e
step() { echo; echo "fresh-test: \$ $*"; "$@"; }
export DEBIAN_FRONTEND=noninteractive
step apt-get update -q
step apt-get install -y -q --no-install-recommends git make
step git clone -q /srv/pam_portal.git /root/pam_portal
cd /root/pam_portal
step make demo </dev/null
step make check
'

echo "fresh-test: a clean Debian root in $ROOTFS, the repository at $head; log: $LOG"
unshare --mount --propagation private --pid --fork --kill-child -- \
	/bin/sh -ec "$MOUNTS" fresh-test "$ROOTFS" "$NEWCOMER" >"$LOG" 2>&1 </dev/null &
NS_PID=$!
# Shown as it comes; tail reads the log to its end once the namespace is
# gone.  Both waited for by `wait`, which a signal interrupts (a command in
# the foreground would hold its trap back until it ended).
tail -n +1 -f --pid="$NS_PID" "$LOG" &
TAIL_PID=$!
status=0
wait "$NS_PID" || status=$?
NS_PID=
wait "$TAIL_PID" || true

last=$(tail -n 1 "$LOG")
if ((status == 0)) && [[ $last =~ ^[0-9]+\ passed,\ 0\ failed$ ]]; then
	echo "fresh-test: make demo, then make check, in a clean Debian root: $last"
	exit 0
fi
echo "fresh-test: FAILED (exit status $status); the whole output is in $LOG" >&2
exit 1
