/*
 * dispatch.c - one request in, one response out: who may ask what, and
 * which handler answers it (handlers.h), with the store lock held or not.
 *
 * A handler makes its writes durable before it answers, but the fsync is
 * made without the store lock (store_sync_released): the write is in
 * place for the next request already, which need not wait for the disk,
 * nor need the event loop's look-ups (dispatch_quick).
 */
#include "dispatch.h"

#include <string.h>
#include <unistd.h>
#include "handlers.h"
#include "log.h"
#include "req_directory.h"
#include "request.h"
#include "storage.h"
#include "valid.h"

/* Without H_SELF a request is root's (or the daemon's own uid's) alone. */
enum handler_flags {
	H_SELF = 1,      /* anyone else may send it too, for its own user name */
	H_USER = 2,      /* carries TAG_USER, checked before the handler runs */
	H_LOCKED = 4,    /* runs with the store lock held (GDBM's requests not yet on storage.h) */
	H_QUIET = 8,     /* changes nothing: no log line when it succeeds */
	H_QUICK = 16,    /* a read of the database, nothing else (dispatch_quick); implies H_TXN */
	H_TXN = 32,      /* one member's transaction (storage_txn): load_user begins it */
	/* Who is managed (directory.h).  With directory = ldap, a request
	 * carrying TAG_USER has the directory asked first, by the worker,
	 * with no lock held and no transaction open: never by the event
	 * loop, so nothing is quick. */
	H_LOCAL = 64,    /* this entry is for directory = local; another answers with ldap */
	H_REMOTE = 128,  /* this entry is for directory = ldap */
	H_OWN_LOOKUP = 256, /* asks the directory itself: not asked first */
	H_PROBE = 512,   /* the directory's health is asked first, fresh */
};

struct handler {
	uint8_t type;
	const char *name;
	void (*run)(struct req *r);
	unsigned flags;
};

/* ---- the table ------------------------------------------------------------ */

static const struct handler handlers[] = {
	{ REQ_STATUS, "status", h_status, H_SELF | H_USER | H_TXN | H_QUIET | H_QUICK },
	{ REQ_SEND_CODE, "send-code", h_send_code, H_USER | H_TXN },
	{ REQ_VERIFY_CODE, "verify-code", h_verify_code, H_USER | H_TXN },
	{ REQ_SET_PASSWORD, "set-password", h_set_password, H_USER | H_TXN },
	{ REQ_AUTH, "auth", h_auth, H_SELF | H_USER | H_TXN },
	{ REQ_CHANGE_PASSWORD, "change-password", h_change_password, H_SELF | H_USER | H_TXN },
	{ REQ_CHECK_PASSWORD, "check-password", h_check_password, H_SELF | H_USER | H_TXN },
	{ REQ_USER_ADD, "user-add", h_user_add, H_USER | H_TXN | H_LOCAL },
	{ REQ_USER_ADD, "user-add", h_from_directory, H_REMOTE },
	{ REQ_USER_DEL, "user-del", h_user_del, H_USER | H_TXN | H_LOCAL },
	{ REQ_USER_DEL, "user-del", h_from_directory, H_REMOTE },
	{ REQ_USER_SHOW, "user-show", h_user_show, H_USER | H_TXN | H_QUIET },
	{ REQ_USER_LIST, "user-list", h_user_list, H_LOCKED | H_QUIET | H_LOCAL },
	{ REQ_USER_LIST, "user-list", h_directory_list, H_QUIET | H_REMOTE },
	{ REQ_USER_RESET, "user-reset", h_user_reset, H_USER | H_TXN },
	{ REQ_USER_UNLOCK, "user-unlock", h_user_unlock, H_USER | H_TXN },
	{ REQ_IMPORT, "import", h_import, H_LOCKED | H_LOCAL },
	{ REQ_IMPORT, "import", h_from_directory, H_REMOTE },
	{ REQ_OUTBOX, "outbox", h_outbox, H_LOCKED | H_QUIET },
	{ REQ_DAEMON_STATUS, "daemon-status", h_daemon_status, H_LOCKED | H_QUIET | H_PROBE },
	{ REQ_DIRECTORY_LOOKUP, "directory-lookup", h_directory_lookup,
	  H_USER | H_QUIET | H_OWN_LOOKUP },
};

/* The entry for this request type under this directory. */
static const struct handler *find_handler(const struct portald *d, uint8_t type)
{
	unsigned other = directory_remote(d->dir) ? H_LOCAL : H_REMOTE;

	for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
		if (handlers[i].type == type && !(handlers[i].flags & other))
			return &handlers[i];
	return NULL;
}

/* No lock held: what the directory says, asked before the handler runs
 * (directory = ldap), into e. */
static void ask_directory(struct req *r, const struct handler *h, struct dir_entry *e)
{
	if (!directory_remote(r->d->dir))
		return;
	if (h->flags & H_PROBE)
		directory_probe(r->d->dir);
	if ((h->flags & H_USER) && !(h->flags & H_OWN_LOOKUP))
		member_lookup(r, e);
}

/* Who may send this request, for whom?  False after answering.  A caller
 * other than root gets what a screen locker running as the user needs (its
 * own state, its own password checked) and nothing else: the verification
 * conversation is for sshd, login and su, which run as root. */
static bool allowed(struct req *r, const struct handler *h)
{
	if (!(h->flags & H_SELF) && !r->privileged) {
		reply(r, RESULT_DENIED);
		return false;
	}
	if (!(h->flags & H_USER))
		return true;
	if (!need_str(r, TAG_USER, "user", r->user, sizeof r->user, valid_user)) {
		r->user[0] = '\0';   /* not a name to log */
		return false;
	}
	/* Anyone else acts for their own login name only. */
	if (!r->privileged && strcmp(r->user, r->peer->name) != 0) {
		reply(r, RESULT_DENIED);
		return false;
	}
	return read_source(r);
}

static void log_outcome(const struct req *r, const struct handler *h)
{
	int prio = LOG_NOTICE;

	if (r->result == RESULT_OK && h && (h->flags & H_QUIET))
		return;
	if (r->result == RESULT_OK)
		prio = LOG_INFO;
	else if (r->result == RESULT_INTERNAL || r->result == RESULT_STORAGE)
		prio = LOG_ERR;
	if (h)
		log_msg(prio, "%s for %s by uid %u (pid %ld): %s%s%s", h->name,
			r->user[0] ? r->user : "-", (unsigned)r->peer->uid, (long)r->peer->pid,
			proto_result_name(r->result), r->note[0] ? ": " : "", r->note);
	else
		log_msg(prio, "unknown request type %u by uid %u (pid %ld)", r->msg->type,
			(unsigned)r->peer->uid, (long)r->peer->pid);
}

/* A copy of the configuration in force. */
static void portald_config(struct portald *d, struct portal_config *out)
{
	pthread_rwlock_rdlock(&d->cfg_lock);
	*out = d->cfg;
	pthread_rwlock_unlock(&d->cfg_lock);
}

bool peer_privileged(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static void req_begin(struct req *r, struct portald *d, const struct peer *peer,
		      const struct proto_msg *req, struct proto_buf *resp)
{
	memset(r, 0, sizeof *r);
	r->d = d;
	r->peer = peer;
	r->msg = req;
	r->resp = resp;
	r->now = time(NULL);
	r->privileged = peer_privileged(peer->uid);
	portald_config(d, &r->cfg);
	/* What the client sees if a handler failed to answer. */
	reply(r, RESULT_INTERNAL);
}

static void req_end(struct req *r, const struct handler *h)
{
	if (!proto_finish(r->resp)) {
		reply_detail(r, RESULT_INTERNAL, "the answer did not fit in a message");
		proto_finish(r->resp);
	}
	log_outcome(r, h);
}

/* A handler as a transaction for storage_txn: run again from the start
 * when the database says so (reply() starts the answer again). */
struct run {
	struct req *r;
	const struct handler *h;
};

static int run_txn(struct storage_conn *sc, void *arg)
{
	struct run *run = arg;
	struct req *r = run->r;

	(void)sc;
	r->txn_rc = STORAGE_ABSENT;
	r->mail_queued = false;
	run->h->run(r);
	return r->txn_rc;
}

/* A handler on storage.h: its transaction committed before anything is
 * acknowledged; the database unreachable is answered unavailable (fail
 * closed: never "not managed"), a write that did not land RESULT_STORAGE. */
static void run_on_storage(struct req *r, const struct handler *h)
{
	struct run run = { r, h };
	int rc = storage_txn(r->sc, run_txn, &run);

	if (rc == STORAGE_UNAVAILABLE || rc == STORAGE_RETRY || rc == STORAGE_RECONNECT) {
		reply(r, RESULT_UNAVAILABLE);
		note(r, "the database cannot be reached");
	} else if (rc == STORAGE_ERROR && r->wrote) {
		reply(r, RESULT_STORAGE);
	}
}

bool dispatch(struct portald *d, struct storage_conn *sc, const struct peer *peer,
	      const struct proto_msg *req, struct proto_buf *resp)
{
	const struct handler *h = find_handler(d, req->type);
	struct dir_entry member;
	struct req r;

	req_begin(&r, d, peer, req, resp);
	r.sc = sc;
	if (!h) {
		reply_detail(&r, RESULT_BAD_REQUEST, "unknown request");
	} else if (allowed(&r, h)) {
		ask_directory(&r, h, &member);
		if (h->flags & H_TXN) {
			run_on_storage(&r, h);
		} else {
			if (h->flags & H_LOCKED)
				store_lock(d->store);
			h->run(&r);
			if (h->flags & H_LOCKED)
				store_unlock(d->store);
		}
	}
	req_end(&r, h);
	return r.mail_queued;
}

enum quick dispatch_quick(struct portald *d, struct storage_conn *sc, const struct peer *peer,
			  const struct proto_msg *req, struct proto_buf *resp)
{
	const struct handler *h = find_handler(d, req->type);
	struct req r;

	if (!h || !(h->flags & H_QUICK) || directory_remote(d->dir))
		return QUICK_NOT;
	if (!sc)
		return QUICK_LOCK_HELD;
	/* Writers hold the lock for microseconds (their fsync is made
	 * without it), but a holder may be preempted, or be a long read (an
	 * import batch, a count of every user): the loop does not wait. */
	req_begin(&r, d, peer, req, resp);
	r.sc = sc;
	sc->nowait = true;
	if (allowed(&r, h))
		h->run(&r);
	sc->nowait = false;
	if (r.busy)
		return QUICK_LOCK_HELD;
	req_end(&r, h);
	return QUICK_ANSWERED;
}
