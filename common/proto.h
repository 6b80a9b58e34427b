/*
 * proto.h - the wire protocol between pam_portal.so, portalctl and portald.
 *
 * This is the one definition both sides compile.  A frame is an 8-byte
 * header followed by a body of fields:
 *
 *   offset 0  "PP"          magic
 *          2  u8  version   PROTO_VERSION; a peer refuses any other
 *          3  u8  type      enum proto_type
 *          4  u32 length    body length, big-endian, at most PROTO_MAX_BODY
 *   body: a sequence of fields, each  u8 tag | u16 length (big-endian) | data
 *
 * Every request gets exactly one response frame (PROTO_RESPONSE) carrying
 * TAG_RESULT.  Lists are paged: the client passes the last key it saw in
 * TAG_CURSOR and gets at most PROTO_PAGE entries, each a TAG_ENTRY whose data
 * is itself a field body.  The same field encoding serialises the helper's
 * database records, so there is one codec to audit.
 */
#ifndef PORTAL_PROTO_H
#define PORTAL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROTO_VERSION    1
#define PROTO_HEADER     8
#ifndef PROTO_MAX_BODY
#define PROTO_MAX_BODY   (64 * 1024)
#endif
#define PROTO_MAX_FRAME  (PROTO_HEADER + PROTO_MAX_BODY)
#ifndef PROTO_MAX_FIELDS
#define PROTO_MAX_FIELDS 1100
#endif
#define PROTO_PAGE       200   /* entries per list page */
/* Users per import request: each batch is one fsync, so the larger the
 * faster an import (docs/PERFORMANCE.md), as long as an answer refusing
 * every one of them still fits in a message (checked in dispatch.c). */
#define PROTO_IMPORT_BATCH 1000

/* Limits on what travels in fields (bytes, excluding the terminating NUL). */
#define PORTAL_USER_MAX     64
#define PORTAL_EMAIL_MAX    254
#define PORTAL_CODE_MAX     10
#define PORTAL_PASSWORD_MAX 1024   /* bytes of UTF-8; the policy counts characters */
#define PORTAL_TICKET_LEN   32     /* raw bytes */
#define PORTAL_SOURCE_MAX   255    /* where a sign-in comes from: PAM_RHOST, PAM_TTY or the service */
#define PORTAL_REQUEST_LEN  16     /* raw bytes of a code request's handle */

enum proto_type {
	PROTO_RESPONSE = 1,
	/* sign-in: root's; any other caller may send REQ_STATUS and REQ_AUTH
	 * for its own user name (what a screen locker needs), nothing else */
	REQ_STATUS = 10,      /* TAG_USER -> TAG_STATE, TAG_CUTOVER, TAG_ORG, TAG_LANG, ... */
	REQ_SEND_CODE,        /* TAG_USER TAG_EMAIL -> OK(TAG_TTL) | WAIT | LOCKED */
	REQ_VERIFY_CODE,      /* TAG_USER TAG_CODE -> OK(TAG_TICKET) | CODE_* | LOCKED */
	REQ_SET_PASSWORD,     /* TAG_USER TAG_TICKET TAG_PASSWORD [TAG_HOST]
	                       * -> OK | POLICY | TICKET */
	REQ_AUTH,             /* TAG_USER TAG_PASSWORD -> OK | PASSWORD | LOCKED | STATE */
	/* administration: root only */
	REQ_USER_ADD = 30,    /* TAG_USER TAG_EMAIL */
	REQ_USER_DEL,         /* TAG_USER */
	REQ_USER_SHOW,        /* TAG_USER -> one TAG_ENTRY (user fields) */
	REQ_USER_LIST,        /* [TAG_STATE] [TAG_CURSOR] -> TAG_ENTRY* [TAG_CURSOR if more] */
	REQ_USER_RESET,       /* TAG_USER */
	REQ_USER_UNLOCK,      /* TAG_USER */
	REQ_IMPORT,           /* TAG_ENTRY* {TAG_LINE TAG_USER TAG_EMAIL}
	                       * -> TAG_COUNT, TAG_ENTRY* {TAG_LINE TAG_RESULT} */
	REQ_OUTBOX,           /* [TAG_CURSOR] -> TAG_ENTRY* (outbox fields) [TAG_CURSOR] */
	REQ_DAEMON_STATUS,    /* -> TAG_COUNT_*, TAG_VERSION, TAG_UPTIME */
	/* sign-in again (root, or a caller acting for its own user): an active
	 * user's password change.  The current password is checked and counted
	 * as REQ_AUTH does; without TAG_NEW_PASSWORD that check is all it does. */
	REQ_CHANGE_PASSWORD,  /* TAG_USER TAG_PASSWORD [TAG_NEW_PASSWORD [TAG_HOST] [TAG_LANG]]
	                       * -> OK | PASSWORD | POLICY | LOCKED | STATE */
	/* A new password judged as soon as it is first typed, before it is
	 * asked again: allowed with a live reset ticket (pending member) or the
	 * current password (active member, counted as REQ_AUTH counts it). */
	REQ_CHECK_PASSWORD,   /* TAG_USER TAG_NEW_PASSWORD (TAG_TICKET | TAG_PASSWORD)
	                       * -> OK | POLICY | TICKET | PASSWORD | LOCKED */
	/* administration again: how a user name is looked up in the directory */
	REQ_DIRECTORY_LOOKUP, /* TAG_USER -> TAG_FILTER, TAG_DN*, TAG_EMAIL*, TAG_DETAIL */
};

enum proto_tag {
	TAG_RESULT = 1,     /* u32, enum proto_result */
	TAG_USER,           /* string */
	TAG_EMAIL,          /* string */
	TAG_CODE,           /* string of digits */
	TAG_PASSWORD,       /* string (secret) */
	TAG_TICKET,         /* PORTAL_TICKET_LEN raw bytes (secret) */
	TAG_STATE,          /* u32, enum portal_state */
	TAG_CUTOVER,        /* string YYYY-MM-DD */
	TAG_ORG,            /* string */
	TAG_LANG,           /* string "fr" | "en" */
	TAG_TTL,            /* u64 seconds a code lives */
	TAG_WAIT,           /* u64 seconds to wait before asking again */
	TAG_UNTIL,          /* u64 unix time a lock ends; 0 = until unlocked */
	TAG_TRIES,          /* u32 tries left on the live code */
	TAG_REASON,         /* u32, enum pending_reason / enum policy_reason */
	TAG_MIN_LEN,        /* u32 password_min_length */
	TAG_HOST,           /* string: remote host of the sign-in, for the notice */
	TAG_ENTRY,          /* nested field body */
	TAG_CURSOR,         /* string: last key of the page */
	TAG_LINE,           /* u64 line number (import) */
	TAG_COUNT,          /* u64 */
	TAG_TIME,           /* u64 unix time */
	TAG_LAST_SIGNIN,    /* u64 unix time, 0 = never */
	TAG_FAILURES,       /* u32 consecutive failures */
	TAG_CODE_EXPIRES,   /* u64 unix time, 0 = no live code */
	TAG_ATTEMPTS,       /* u32 delivery attempts (outbox) */
	TAG_DETAIL,         /* string, human readable detail */
	TAG_ID,             /* string */
	TAG_VERSION,        /* string */
	TAG_UPTIME,         /* u64 seconds */
	TAG_COUNT_PENDING,  /* u64 */
	TAG_COUNT_ACTIVE,   /* u64 */
	TAG_COUNT_LOCKED,   /* u64 */
	TAG_COUNT_OUTBOX,   /* u64 */
	TAG_HAS_PASSWORD,   /* u32 0|1 */
	TAG_CREATED,        /* u64 unix time */
	TAG_NEW_PASSWORD,   /* string (secret): REQ_CHANGE_PASSWORD */
	TAG_SOURCE,         /* string: where a request that can count a failure comes from
	                     * (the remote host, else the terminal, else the service) */
	TAG_REQUEST,        /* PORTAL_REQUEST_LEN raw bytes: the handle of one code request,
	                     * from REQ_SEND_CODE's answer to the REQ_VERIFY_CODEs that follow */
	TAG_LOCK,           /* nested: one lock of a member {TAG_SOURCE TAG_UNTIL TAG_FAILURES} */
	TAG_DN,             /* string: a directory entry's distinguished name */
	TAG_FILTER,         /* string: the directory search filter sent */
	TAG_MACHINE,        /* string: the machine that queued, sent or acted */
	/* From here up, the tags of the fields of the helper's database
	 * records that never travel (helper/record.h). */
	TAG_PRIVATE = 100,
};

enum proto_result {
	RESULT_OK = 0,
	RESULT_BAD_REQUEST,      /* malformed or unknown request */
	RESULT_DENIED,           /* the caller may not do this */
	RESULT_INVALID,          /* a field is not acceptable (TAG_DETAIL says which) */
	RESULT_NOT_FOUND,        /* no such managed user */
	RESULT_EXISTS,           /* user already managed */
	RESULT_LOCKED,           /* TAG_UNTIL (0 = until an administrator unlocks) */
	RESULT_WAIT,             /* resend too soon or hourly cap: TAG_WAIT */
	RESULT_CODE_WRONG,       /* TAG_TRIES left */
	RESULT_CODE_EXPIRED,
	RESULT_CODE_DEAD,        /* no live code (used up, replaced or never sent) */
	RESULT_TICKET,           /* reset ticket unknown, used or expired */
	RESULT_POLICY,           /* new password refused: TAG_REASON is enum policy_reason */
	RESULT_PASSWORD,         /* wrong password */
	RESULT_STATE,            /* the user is not in a state that allows this */
	RESULT_STORAGE,          /* the database could not be written: try later */
	RESULT_BUSY,             /* too many connections */
	RESULT_INTERNAL,
	RESULT_PARTIAL,          /* import: some lines refused, see entries */
	RESULT_UNAVAILABLE,      /* the store or the directory cannot be reached: fail closed */
	RESULT_AMBIGUOUS,        /* the directory has several entries for the name: refused */
};

enum portal_state {
	STATE_UNMANAGED = 0,
	STATE_PENDING,
	STATE_ACTIVE,
	STATE_LOCKED,
};

/* Why a user is pending (TAG_REASON on REQ_STATUS). */
enum pending_reason {
	PENDING_NONE = 0,
	PENDING_NEVER,       /* no portal password yet */
	PENDING_DORMANT,     /* last sign-in before the cutover */
	PENDING_RESET,       /* an administrator reset the user */
};

enum policy_reason {
	PW_OK = 0,
	PW_TOO_SHORT,
	PW_TOO_LONG,
	PW_BAD_UTF8,
	PW_COMMON,
	PW_HAS_USER,
	PW_HAS_EMAIL,
	PW_GUESSABLE,        /* the strength estimate finds it too easy to guess */
};

/* ---- encoding ---------------------------------------------------------- */

struct proto_buf {
	uint8_t data[PROTO_MAX_FRAME];
	size_t len;
	bool overflow;  /* a put did not fit; proto_finish fails */
};

/* Start a frame of the given type (resets the buffer). */
void proto_begin(struct proto_buf *b, uint8_t type);
/* Start a bare field body (database records, nested entries). */
void proto_begin_body(struct proto_buf *b);
void proto_put_bytes(struct proto_buf *b, uint8_t tag, const void *p, size_t n);
void proto_put_str(struct proto_buf *b, uint8_t tag, const char *s);
void proto_put_u32(struct proto_buf *b, uint8_t tag, uint32_t v);
void proto_put_u64(struct proto_buf *b, uint8_t tag, uint64_t v);
/* Append another buffer's body as one nested field. */
void proto_put_nested(struct proto_buf *b, uint8_t tag, const struct proto_buf *inner);
/* Write the length into the header; false if anything overflowed. */
bool proto_finish(struct proto_buf *b);
/* Overwrite the buffer with zeros (it may have carried a secret). */
void proto_wipe(struct proto_buf *b);

/* ---- decoding ---------------------------------------------------------- */

struct proto_field {
	uint8_t tag;
	uint16_t len;
	const uint8_t *data;
};

struct proto_msg {
	uint8_t type;
	size_t nfields;
	struct proto_field f[PROTO_MAX_FIELDS];
};

/* Total frame length announced by a header, or 0 if the header is bad
 * (wrong magic, version, or a body over PROTO_MAX_BODY). */
size_t proto_frame_size(const uint8_t header[PROTO_HEADER]);
/* Parse a whole frame; the message points into `frame`. */
bool proto_parse(const uint8_t *frame, size_t n, struct proto_msg *m);
/* Parse a bare field body (nested entry or database record). */
bool proto_parse_body(const uint8_t *body, size_t n, struct proto_msg *m);

const struct proto_field *proto_find(const struct proto_msg *m, uint8_t tag);
/* Copy a string field into out (NUL-terminated).  False when absent, longer
 * than cap-1, or carrying a NUL byte. */
bool proto_get_str(const struct proto_msg *m, uint8_t tag, char *out, size_t cap);
bool proto_get_u32(const struct proto_msg *m, uint8_t tag, uint32_t *v);
bool proto_get_u64(const struct proto_msg *m, uint8_t tag, uint64_t *v);
/* Exactly n bytes. */
bool proto_get_fixed(const struct proto_msg *m, uint8_t tag, void *out, size_t n);

/* ---- blocking I/O with a deadline (clients, and helper replies) -------- */

/* Read one frame into buf (PROTO_MAX_FRAME bytes); returns its length, or
 * -1 with errno set (ETIMEDOUT, EPROTO for a bad header, ECONNRESET at EOF). */
ssize_t proto_read_frame(int fd, uint8_t *buf, int timeout_ms);
/* Write all of a finished frame; 0 or -1 with errno. */
int proto_write_frame(int fd, const struct proto_buf *b, int timeout_ms);
/* The same for len bytes of a finished frame kept elsewhere. */
int proto_write_all(int fd, const uint8_t *p, size_t len, int timeout_ms);

/* Names used in logs and by portalctl. */
const char *proto_state_name(enum portal_state s);
bool proto_state_parse(const char *name, enum portal_state *s);
const char *proto_result_name(enum proto_result r);

#endif
