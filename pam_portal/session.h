/*
 * session.h - one call of an entry point (authenticate, acct_mgmt or
 * chauthtok): who it is for, what the helper said about them, and the
 * buffers of the exchanges with the helper.
 *
 * Nothing lasts from one call to the next (sshd may run each stage in its
 * own process): what a later stage needs is asked of the helper again,
 * but for the little verdict.h keeps.
 */
#ifndef PAM_PORTAL_SESSION_H
#define PAM_PORTAL_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include "args.h"
#include "conv.h"
#include "proto.h"

/* Too large for the stack of every application thread that may call
 * PAM: allocated once per call.  Only what an exchange used is written,
 * and only that is wiped: the module's messages are small, and touching
 * all of it would cost a page fault per 4 KiB at every sign-in. */
struct exchange {
	struct proto_buf req;
	uint8_t frame[PROTO_MAX_FRAME];
	size_t frame_len;             /* bytes of the last answer in frame */
	struct proto_msg resp;
};

/* The management group being run: the same refusal reads differently in
 * each (see session_refused). */
enum stage { STAGE_AUTH, STAGE_ACCOUNT, STAGE_PASSWORD };

struct session {
	pam_handle_t *pamh;
	enum stage stage;
	const struct portal_args *args;
	struct conv conv;
	bool silent;                  /* PAM_SILENT: no notices of our own */
	char user[PORTAL_USER_MAX + 1];
	struct exchange *x;
	/* from the last REQ_STATUS */
	enum portal_state state;
	enum pending_reason reason;    /* why pending */
	char cutover[11];             /* YYYY-MM-DD, "" when not given */
	char org[128];                /* "" when not given */
	uint32_t min_len;             /* password_min_length (pending, active) */
	uint64_t until;               /* when locked */
};

/* false when memory is short. */
bool session_open(struct session *s, pam_handle_t *pamh, enum stage stage, int flags,
		  const struct portal_args *args, const char *user);
/* Wipe and free everything the session held. */
void session_close(struct session *s);

/* Start a request for the session's user in s->x->req. */
void session_begin(struct session *s, enum proto_type type);
/* Add TAG_HOST, the remote host (PAM_RHOST) when there is one, for the
 * notice mail. */
void session_put_host(struct session *s);
/* Send s->x->req; the answer is in s->x->resp.  The enum proto_result of
 * the answer, or -1 when the helper could not be asked (logged). */
int session_call(struct session *s, const char *what);

/* Ask REQ_STATUS and fill the fields above.  PAM_SUCCESS, or the PAM
 * result the module must return (the person has been told why). */
int session_status(struct session *s);
/* session_status, and the answers every stage gives alike: PAM_IGNORE for
 * a user out of the directory, session_locked for a locked one.
 * PAM_SUCCESS when s->state is STATE_PENDING or STATE_ACTIVE: what follows is
 * the stage's to say. */
int session_managed(struct session *s);

/* What a refusal returns in a stage: PAM_AUTH_ERR (auth), PAM_PERM_DENIED
 * (account), PAM_AUTHTOK_ERR (password). */
int stage_refused(enum stage stage);
int session_refused(const struct session *s);

/* The helper cannot be reached or answered nonsense: tell the person, and
 * return PAM_AUTHINFO_UNAVAIL, or PAM_PERM_DENIED in the account stage. */
int session_unavailable(struct session *s);
/* The helper answered r to `what`, which this module cannot go on from
 * (busy, storage failure, or an answer that makes no sense there): log
 * it, then as session_unavailable.  Never success. */
int session_unexpected(struct session *s, const char *what, int r);
/* The account is locked until `until` (0: until an administrator
 * unlocks it): tell the person, return PAM_AUTH_ERR in the auth stage,
 * PAM_PERM_DENIED in the others. */
int session_locked(struct session *s, uint64_t until);
/* RESULT_LOCKED in s->x->resp, as session_locked. */
int session_locked_answer(struct session *s, const char *what);

#define session_debug(s, ...) do {                                           \
		if ((s)->args->debug)                                        \
			pam_syslog((s)->pamh, LOG_DEBUG, __VA_ARGS__);       \
	} while (0)

#endif
