/*
 * store_gdbm.h - what the two files of the GDBM backend share:
 * store_gdbm.c (members, sessions, opening) and store_gdbm_mail.c (the
 * outbox).  The rest of portald sees storage.h.
 */
#ifndef PORTAL_STORE_GDBM_H
#define PORTAL_STORE_GDBM_H

#include "storage.h"

#define CLAIMS_MAX 256      /* claims held at once: a few senders' batches */

/* A mail claimed by a sender of this process, until `until`. */
struct claim {
	char id[MAILQ_ID_LEN + 1];
	uint64_t token;
	time_t until;
};

struct gdbm_storage {
	struct storage base;
	struct store *st;
	struct mailq q;                  /* guarded by the store lock */
	struct claim claims[CLAIMS_MAX]; /* guarded by the store lock */
	char host[STORAGE_HOST_MAX + 1];
};

struct gdbm_session {
	struct storage_conn base;
	bool locked, dirty;              /* holds the store lock; wrote under it */
};

struct gdbm_session *gs(struct storage_conn *c);
struct gdbm_storage *gst(struct storage_conn *c);

/* The outbox (store_gdbm_mail.c). */
int gdbm_mail_queue(struct storage_conn *c, struct storage_mail *m);
int gdbm_mail_claim(struct storage_conn *c, unsigned lease, struct storage_mail *out,
		    size_t max, size_t *n);
int gdbm_mail_finish(struct storage_conn *c, const struct storage_mail *m);
int gdbm_mail_purge(struct storage_conn *c, time_t before, unsigned long *n);
int gdbm_mail_list(struct storage_conn *c, const char *cursor, struct storage_mail *out,
		   size_t max, size_t *n);
int gdbm_mail_pending(struct storage_conn *c, unsigned long *n);

#endif
