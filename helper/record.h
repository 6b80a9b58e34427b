/*
 * record.h - the helper's database records: the tags of their private
 * fields, all of them here, and one codec over proto's field encoding.
 *
 * A record is a proto field body, as a wire message is: what may be shown
 * to an administrator goes under the public tags of proto.h, what never
 * leaves the helper (hashes, request times, queued mail) under the tags
 * below, from TAG_PRIVATE up.  Every database holds these numbers: a tag
 * is never renumbered, nor given to another field.
 *
 * A record kind describes its C struct as a table of fields, in the order
 * they are written; record_encode writes such a struct, record_decode
 * reads it back and refuses a record that does not follow the table.
 */
#ifndef PORTAL_RECORD_H
#define PORTAL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto.h"

enum record_tag {
	/* a managed user, "u:<user>" (user.c) */
	REC_PWHASH = TAG_PRIVATE,
	REC_RESET,
	REC_HARD_LOCKED,
	REC_CODE_HASH,
	REC_CODE_TRIES,
	REC_REQUEST,          /* repeated, oldest first */
	REC_LAST_REQUEST,
	REC_TICKET_HASH,
	REC_TICKET_EXPIRES,
	REC_TICKET_TRIES,
	REC_CODE_REQUEST,     /* repeated: one code request (codereq.h) */
	REC_SOURCE_LOCK,      /* repeated: failures and lock from one source (lockout.h) */
	REC_LOCK_MAILED,      /* when the last lock mail was queued */
	REC_NOTICE_TIME,      /* repeated: when each notice of the last hour goes (request.c) */
	/* the fields of a code request, nested in REC_CODE_REQUEST */
	REC_CR_FLAGS = TAG_PRIVATE + 30,
	REC_CR_ADDRESS,
	REC_CR_SOURCE,
	REC_CR_HANDLE,
	REC_CR_CODE,
	REC_CR_TIME,
	REC_CR_EXPIRES,
	REC_CR_TRIES,
	/* the database's own, "k:check" (keys.c) */
	REC_KEY_CHECK = TAG_PRIVATE + 45,
	/* an outbox entry, "o:<id>" (mailq.c) */
	REC_MAIL_ID = TAG_PRIVATE + 50,
	REC_MAIL_KIND,
	REC_MAIL_USER,
	REC_MAIL_TO,
	REC_MAIL_STATUS,
	REC_MAIL_ATTEMPTS,
	REC_MAIL_NEXT_TRY,
	REC_MAIL_EXPIRES,
	REC_MAIL_DETAIL,
	REC_MAIL_DONE,
	REC_MAIL_NONCE,
	REC_MAIL_BOX,
};

/* What a field holds in the struct. */
enum record_type {
	RF_STR,       /* char[size], NUL-terminated */
	RF_U32,       /* uint32_t */
	RF_U64,       /* uint64_t */
	RF_BOOL,      /* bool, written as a u32 0 or 1 */
	RF_FIXED,     /* uint8_t[size] */
	RF_BYTES,     /* const uint8_t *, its size_t length at len_off: read, it
		       * points into the parsed message */
	RF_U64_LIST,  /* uint64_t[], its unsigned count at len_off: one field each */
	RF_LIST,      /* an array of structs of the layout `sub`, its unsigned count
		       * at len_off (size: the whole array): each item one field,
		       * its body that layout's record */
};

/* When a field is written, and what reading it asks. */
enum record_rule {
	RULE_REQUIRED,  /* always written; a record without it is damaged */
	RULE_OPTIONAL,  /* always written; absent reads as zero */
	RULE_NONZERO,   /* written unless zero, empty or none; absent reads as zero */
	RULE_IF,        /* written when field `when` is not zero; absent reads as zero */
	RULE_WITH,      /* as RULE_IF, and there exactly then: a record that has it
			 * without field `when`, or lacks it with it, is damaged */
};

struct record_field {
	uint8_t tag;
	uint8_t type;         /* enum record_type */
	size_t off;           /* where in the struct */
	size_t size;          /* its sizeof */
	uint8_t rule;         /* enum record_rule: RULE_REQUIRED unless given */
	uint8_t when;         /* RULE_IF, RULE_WITH: the index of the deciding field */
	size_t len_off;       /* RF_BYTES, RF_U64_LIST, RF_LIST: where its length is */
	const struct record_layout *sub;   /* RF_LIST: the layout of an item */
};

/* .off and .size of member m of struct type t. */
#define RECORD_AT(t, m) .off = offsetof(t, m), .size = sizeof ((t *)0)->m

struct record_layout {
	const struct record_field *field;
	size_t n;
	size_t size;          /* of the struct */
};

#define RECORD_LAYOUT(type, table) { (table), sizeof (table) / sizeof (table)[0], sizeof (type) }

/* The struct at rec as a bare field body in b (b->overflow when it does
 * not fit). */
void record_encode(const struct record_layout *l, const void *rec, struct proto_buf *b);
/* A parsed body into the struct at rec, zeroed first; false when the
 * record does not follow the layout (a field malformed, one required
 * missing, one of a list too many). */
bool record_decode(const struct record_layout *l, const struct proto_msg *m, void *rec);

#endif
