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
 * F_RESULT.  Lists are paged: the client passes the last key it saw in
 * F_CURSOR and gets at most PROTO_PAGE entries, each an F_ENTRY whose data
 * is itself a field body.  The same field encoding serialises the helper's
 * database records, so there is one codec to audit.
 */
#ifndef PORTAL_PROTO_H
#define PORTAL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

/* <unistd.h> defines R_OK for access(); our result code of the same name
 * wins wherever this header is included, whatever the include order. */
#undef R_OK

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
/* Users per import request: each batch is one fsync, so the more the
 * faster an import (500 took a million users 25-30 s, 1000 about a
 * quarter less), as long as an answer refusing every one of them still
 * fits in a message (checked in dispatch.c). */
#define PROTO_IMPORT_BATCH 1000

/* Limits on what travels in fields (bytes, excluding the terminating NUL). */
#define PORTAL_USER_MAX     64
#define PORTAL_EMAIL_MAX    254
#define PORTAL_CODE_MAX     10
#define PORTAL_PASSWORD_MAX 1024   /* bytes of UTF-8; the policy counts characters */
#define PORTAL_TICKET_LEN   32     /* raw bytes */

enum proto_type {
	PROTO_RESPONSE = 1,
	/* sign-in: root's; any other caller may send REQ_STATUS and REQ_AUTH
	 * for its own user name (what a screen locker needs), nothing else */
	REQ_STATUS = 10,      /* F_USER -> F_STATE, F_CUTOVER, F_ORG, F_LANG, ... */
	REQ_SEND_CODE,        /* F_USER F_EMAIL -> OK(F_TTL) | WAIT | LOCKED */
	REQ_VERIFY_CODE,      /* F_USER F_CODE -> OK(F_TICKET) | CODE_* | LOCKED */
	REQ_SET_PASSWORD,     /* F_USER F_TICKET F_PASSWORD [F_HOST] -> OK | POLICY | TICKET */
	REQ_AUTH,             /* F_USER F_PASSWORD -> OK | PASSWORD | LOCKED | STATE */
	/* administration: root only */
	REQ_USER_ADD = 30,    /* F_USER F_EMAIL */
	REQ_USER_DEL,         /* F_USER */
	REQ_USER_SHOW,        /* F_USER -> one F_ENTRY (user fields) */
	REQ_USER_LIST,        /* [F_STATE] [F_CURSOR] -> F_ENTRY* [F_CURSOR if more] */
	REQ_USER_RESET,       /* F_USER */
	REQ_USER_UNLOCK,      /* F_USER */
	REQ_IMPORT,           /* F_ENTRY* {F_LINE F_USER F_EMAIL} -> F_COUNT, F_ENTRY* {F_LINE F_RESULT} */
	REQ_OUTBOX,           /* [F_CURSOR] -> F_ENTRY* (outbox fields) [F_CURSOR] */
	REQ_DAEMON_STATUS,    /* -> F_COUNT_* , F_VERSION, F_UPTIME */
	/* sign-in again (root, or a caller acting for its own user): an active
	 * user's password change.  The current password is checked and counted
	 * as REQ_AUTH does; without F_NEW_PASSWORD that check is all it does. */
	REQ_CHANGE_PASSWORD,  /* F_USER F_PASSWORD [F_NEW_PASSWORD [F_HOST] [F_LANG]]
	                       * -> OK | PASSWORD | POLICY | LOCKED | STATE */
};

enum proto_tag {
	F_RESULT = 1,     /* u32, enum proto_result */
	F_USER,           /* string */
	F_EMAIL,          /* string */
	F_CODE,           /* string of digits */
	F_PASSWORD,       /* string (secret) */
	F_TICKET,         /* PORTAL_TICKET_LEN raw bytes (secret) */
	F_STATE,          /* u32, enum portal_state */
	F_CUTOVER,        /* string YYYY-MM-DD */
	F_ORG,            /* string */
	F_LANG,           /* string "fr" | "en" */
	F_TTL,            /* u64 seconds a code lives */
	F_WAIT,           /* u64 seconds to wait before asking again */
	F_UNTIL,          /* u64 unix time a lock ends; 0 = until unlocked */
	F_TRIES,          /* u32 tries left on the live code */
	F_REASON,         /* u32, enum portal_reason / enum policy_reason */
	F_MIN_LEN,        /* u32 password_min_length */
	F_HOST,           /* string: remote host of the sign-in, for the notice */
	F_ENTRY,          /* nested field body */
	F_CURSOR,         /* string: last key of the page */
	F_LINE,           /* u64 line number (import) */
	F_COUNT,          /* u64 */
	F_TIME,           /* u64 unix time */
	F_LAST_SIGNIN,    /* u64 unix time, 0 = never */
	F_FAILURES,       /* u32 consecutive failures */
	F_CODE_EXPIRES,   /* u64 unix time, 0 = no live code */
	F_ATTEMPTS,       /* u32 delivery attempts (outbox) */
	F_DETAIL,         /* string, human readable detail */
	F_ID,             /* string */
	F_VERSION,        /* string */
	F_UPTIME,         /* u64 seconds */
	F_COUNT_PENDING,  /* u64 */
	F_COUNT_ACTIVE,   /* u64 */
	F_COUNT_LOCKED,   /* u64 */
	F_COUNT_OUTBOX,   /* u64 */
	F_HAS_PASSWORD,   /* u32 0|1 */
	F_CREATED,        /* u64 unix time */
	F_NEW_PASSWORD,   /* string (secret): REQ_CHANGE_PASSWORD */
	/* tags >= 100 are private to the helper's database records */
	F_PRIVATE = 100,
};

enum proto_result {
	R_OK = 0,
	R_BAD_REQUEST,      /* malformed or unknown request */
	R_DENIED,           /* the caller may not do this */
	R_INVALID,          /* a field is not acceptable (F_DETAIL says which) */
	R_NOT_FOUND,        /* no such managed user */
	R_EXISTS,           /* user already managed */
	R_LOCKED,           /* F_UNTIL (0 = until an administrator unlocks) */
	R_WAIT,             /* resend too soon or hourly cap: F_WAIT */
	R_CODE_WRONG,       /* F_TRIES left */
	R_CODE_EXPIRED,
	R_CODE_DEAD,        /* no live code (used up, replaced or never sent) */
	R_TICKET,           /* reset ticket unknown, used or expired */
	R_POLICY,           /* new password refused: F_REASON is enum policy_reason */
	R_PASSWORD,         /* wrong password */
	R_STATE,            /* the user is not in a state that allows this */
	R_STORAGE,          /* the database could not be written: try later */
	R_BUSY,             /* too many connections */
	R_INTERNAL,
	R_PARTIAL,          /* import: some lines refused, see entries */
};

enum portal_state {
	ST_UNMANAGED = 0,
	ST_PENDING,
	ST_ACTIVE,
	ST_LOCKED,
};

/* Why a user is pending (F_REASON on REQ_STATUS). */
enum portal_reason {
	PR_NONE = 0,
	PR_NEVER,       /* no portal password yet */
	PR_DORMANT,     /* last sign-in before the cutover */
	PR_RESET,       /* an administrator reset the user */
};

enum policy_reason {
	PW_OK = 0,
	PW_TOO_SHORT,
	PW_TOO_LONG,
	PW_BAD_UTF8,
	PW_COMMON,
	PW_HAS_USER,
	PW_HAS_EMAIL,
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
