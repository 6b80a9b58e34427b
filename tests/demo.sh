#!/bin/bash
# demo.sh (make demo) - the whole pam_portal flow on this machine, changing
# nothing under /etc: a scratch folder holds a portald config, socket and
# database, a PAM service file, and the mail a loopback SMTP server prints.
#
# At a terminal you walk the conversation yourself: type the address, read
# the code from the mail printed on the screen, create a password, then
# sign in with it.  Without a terminal (CI, `make demo < /dev/null`) the
# same flow runs scripted and its transcript is printed.  Either way every
# mail the flow sends is printed before the demo goes on or ends: it waits
# for portald's outbox to be idle (tests/portaltest.py), not for a while.
#
#   DEMO_LANG=en       English instead of French
#   DEMO_USER, DEMO_EMAIL   the demo member (demo, demo@example.org)
#   BUILD              the build to use (build)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/${BUILD:-build}
LANGUAGE=${DEMO_LANG:-fr}
USER_NAME=${DEMO_USER:-demo}
EMAIL=${DEMO_EMAIL:-demo@example.org}
PYTHON=/usr/bin/python3

case $LANGUAGE in
fr|en) ;;
*) echo "demo: DEMO_LANG must be fr or en" >&2; exit 2 ;;
esac
for f in portald portalctl pam_portal.so tests/pamconv; do
	[[ -x $BUILD/$f || -f $BUILD/$f ]] || { echo "demo: $BUILD/$f is missing: run make" >&2; exit 1; }
done

DIR=$(mktemp -d "${TMPDIR:-/tmp}/portal-demo.XXXXXX")
chmod 755 "$DIR"
mkdir -m 755 "$DIR/run" "$DIR/pam.d"
mkdir -m 700 "$DIR/db"
SMTPD_PID= PORTALD_PID=

cleanup() {
	trap - EXIT INT TERM
	[[ -n $PORTALD_PID ]] && kill -TERM "$PORTALD_PID" 2>/dev/null && wait "$PORTALD_PID" 2>/dev/null
	[[ -n $SMTPD_PID ]] && kill -TERM "$SMTPD_PID" 2>/dev/null && wait "$SMTPD_PID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Wait (at most 10 s) until a command succeeds; polls, never guesses.
wait_until() {
	local what=$1 i
	shift
	for ((i = 0; i < 200; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "demo: $what did not happen within 10 s" >&2
	return 1
}

# ---- the mail server, the helper, the member ---------------------------------
"$PYTHON" "$ROOT/tests/smtpserver.py" --print --port-file "$DIR/smtpd.port" \
	--maildir "$DIR/mail" &
SMTPD_PID=$!
wait_until "the SMTP server listening" test -s "$DIR/smtpd.port"
PORT=$(cat "$DIR/smtpd.port")

cat >"$DIR/portald.conf" <<EOF
# pam_portal demo - see man/portald.conf.5
socket = $DIR/run/portald.sock
database = $DIR/db/portal.db
cutover = 2023-10-30
organization = Demo College
language = $LANGUAGE
smtp_server = 127.0.0.1:$PORT
smtp_tls = none
mail_from = portal@demo.example.org
EOF

"$BUILD/portald" -f -c "$DIR/portald.conf" 2>"$DIR/portald.log" &
PORTALD_PID=$!
wait_until "portald answering" "$BUILD/portalctl" -c "$DIR/portald.conf" status ||
	{ cat "$DIR/portald.log" >&2; exit 1; }
LC_ALL=C "$BUILD/portalctl" -c "$DIR/portald.conf" user add "$USER_NAME" "$EMAIL"

cat >"$DIR/pam.d/demo" <<EOF
auth [success=done ignore=ignore default=die] $BUILD/pam_portal.so socket=$DIR/run/portald.sock
auth required pam_deny.so
account required pam_permit.so
EOF

# Until the mail queued so far has been sent, and so printed by smtpserver.py.
outbox_idle() {
	BUILD=${BUILD#"$ROOT"/} PYTHONPATH="$ROOT/tests" "$PYTHON" - "$DIR/portald.conf" <<'EOF'
import sys
import portaltest as pt
conf = sys.argv[1]
try:
    pt.wait_outbox_idle(lambda: pt.portalctl(conf, "status"), lambda: pt.portalctl(conf, "outbox"))
except pt.TestError as e:
    sys.exit("demo: %s" % e)
EOF
}

# ---- at a terminal: you walk it ----------------------------------------------
if [[ -t 0 ]]; then
	cat <<EOF

==> Sign-in of "$USER_NAME" through PAM (service file $DIR/pam.d/demo).
    The address on file is $EMAIL.  The mail with the code is printed
    here by the demo's SMTP server as soon as it is sent.

EOF
	"$BUILD/tests/pamconv" -i "$DIR/pam.d" demo "$USER_NAME" || true
	outbox_idle
	cat <<EOF

==> Sign in again as "$USER_NAME", with the new password.

EOF
	"$BUILD/tests/pamconv" -i "$DIR/pam.d" demo "$USER_NAME" || true
	outbox_idle
	echo
	"$BUILD/portalctl" -c "$DIR/portald.conf" user show "$USER_NAME" || true
	exit 0
fi

# ---- without a terminal: the same, scripted ----------------------------------
echo
echo "==> No terminal: the flow runs scripted; the transcript follows."
BUILD=${BUILD#"$ROOT"/} DEMO_DIR=$DIR DEMO_USER=$USER_NAME DEMO_EMAIL=$EMAIL \
	PYTHONPATH="$ROOT/tests" "$PYTHON" - <<'EOF'
"""Drive pamconv like a person would, printing what they would see."""
import glob, os, re, sys
from portaltest import Dialog, Mail, TestError, portalctl, wait_outbox_idle

sys.stdout.reconfigure(line_buffering=True)

DIR = os.environ["DEMO_DIR"]
CONF = os.path.join(DIR, "portald.conf")
USER, EMAIL = os.environ["DEMO_USER"], os.environ["DEMO_EMAIL"]
PASSWORD = "lanterne verte sous la pluie 7"


def outbox_idle():
    """Until the mail queued so far has been sent (and so printed)."""
    wait_outbox_idle(lambda: portalctl(CONF, "status"), lambda: portalctl(CONF, "outbox"))


def code_mail():
    """The newest code mail: the code prompt came, so it was queued."""
    outbox_idle()
    mails = [Mail(p) for p in sorted(glob.glob(os.path.join(DIR, "mail", "*.eml")))]
    mails = [m for m in mails if m.code]
    if not mails:
        raise TestError("no code mail was sent")
    return mails[-1]


def session(answers):
    """One sign-in: answer each prompt from `answers` (a function of the
    prompt's kind and text), printing the conversation as a terminal
    would show it.  The PAM result."""
    d = Dialog(os.path.join(DIR, "pam.d"), "demo", USER)
    while True:
        kind, text = d.read()
        if kind == "RESULT":
            print("[PAM: %s]" % text)
            d.proc.wait()
            return re.match(r"authenticate=(\S+)", text).group(1)
        if kind in ("INFO", "ERROR"):
            print(text)
            continue
        answer = answers(kind, text)
        print(text + ("*" * len(answer) if kind == "ECHO_OFF" else answer), flush=True)
        d.answer(answer)


def first(kind, text):
    if kind == "ECHO_OFF":
        return PASSWORD
    if "@" in text or "courriel" in text or "e-mail address" in text:
        return EMAIL
    if re.search(r"(?i)code", text):
        return code_mail().code
    return ""           # Enter: continue


try:
    print("\n==> Sign-in of %r, pending: the verification" % USER)
    r1 = session(first)
    outbox_idle()       # the notice of the new password, printed
    print("\n==> Sign-in again with the new password")
    r2 = session(lambda kind, text: PASSWORD if kind == "ECHO_OFF" else "q")
    outbox_idle()
except TestError as e:
    print("demo: %s" % e, file=sys.stderr)
    sys.exit(1)
ok = r1 in ("PAM_AUTH_ERR", "PAM_SUCCESS") and r2 == "PAM_SUCCESS"
print("\n==> %s" % ("The demo went through: verified, password created, signed in."
                    if ok else "The demo did NOT go through."))
sys.exit(0 if ok else 1)
EOF
