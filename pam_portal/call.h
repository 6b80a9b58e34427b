/*
 * call.h - one call of an entry point (authenticate, acct_mgmt or
 * chauthtok): who it is for, what the helper said about them, and the
 * buffers of the exchanges with the helper.
 *
 * Nothing lasts from one call to the next (sshd may run each stage in its
 * own process): what a later stage needs is asked of the helper again,
 * but for the little verdict.h keeps.
 */
#ifndef PAM_PORTAL_CALL_H
#define PAM_PORTAL_CALL_H

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
 * each (see call_refused). */
enum stage { STAGE_AUTH, STAGE_ACCOUNT, STAGE_PASSWORD };

struct call {
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
	enum portal_state standing;   /* when locked: pending or active under the lock */
};

/* false when memory is short. */
bool call_open(struct call *s, pam_handle_t *pamh, enum stage stage, int flags,
	       const struct portal_args *args, const char *user);
/* Wipe and free everything the call held. */
void call_close(struct call *s);

/* Start a request for the call's user in s->x->req; one that can count
 * a failure (REQ_AUTH, REQ_SEND_CODE, REQ_VERIFY_CODE, REQ_CHANGE_PASSWORD,
 * REQ_CHECK_PASSWORD) says where the sign-in comes from (TAG_SOURCE,
 * source.h). */
void call_begin(struct call *s, enum proto_type type);
/* Add TAG_HOST, the remote host (PAM_RHOST) when there is one, for the
 * notice mail. */
void call_put_host(struct call *s);
/* Send s->x->req; the answer is in s->x->resp.  The enum proto_result of
 * the answer, or -1 when the helper could not be asked (logged). */
int call_helper(struct call *s, const char *what);

/* Ask REQ_STATUS and fill the fields above.  PAM_SUCCESS, or the PAM
 * result the module must return (the person has been told why). */
int call_status(struct call *s);
/* call_status, and the answers every stage gives alike: PAM_IGNORE for
 * a user out of the directory, call_locked for a locked one but in auth,
 * where a locked member is asked as the state under the lock says (the
 * lock is said after the first answer).  PAM_SUCCESS when s->state is
 * STATE_PENDING or STATE_ACTIVE: what follows is the stage's to say. */
int call_managed(struct call *s);

/* What a refusal returns in a stage: PAM_AUTH_ERR (auth), PAM_PERM_DENIED
 * (account), PAM_AUTHTOK_ERR (password). */
int stage_refused(enum stage stage);
int call_refused(const struct call *s);

/* The helper cannot be reached or answered nonsense: tell the person, and
 * return PAM_AUTHINFO_UNAVAIL, or PAM_PERM_DENIED in the account stage. */
int call_unavailable(struct call *s);
/* The helper answered r to `what`, which this module cannot go on from
 * (busy, storage failure, or an answer that makes no sense there): log
 * it, then as call_unavailable.  Never success. */
int call_unexpected(struct call *s, const char *what, int r);
/* The account is locked until `until` (0: until an administrator
 * unlocks it): tell the person, return PAM_AUTH_ERR in the auth stage,
 * PAM_PERM_DENIED in the others. */
int call_locked(struct call *s, uint64_t until);
/* RESULT_LOCKED in s->x->resp, as call_locked. */
int call_locked_answer(struct call *s, const char *what);

#define call_debug(s, ...) do {                                              \
		if ((s)->args->debug)                                        \
			pam_syslog((s)->pamh, LOG_DEBUG, __VA_ARGS__);       \
	} while (0)

#endif
