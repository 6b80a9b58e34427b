/*
 * req_directory.c - requests and the members' directory.  See
 * req_directory.h.
 */
#include "req_directory.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "log.h"
#include "store.h"

/* ---- a member, as a request sees it ------------------------------------- */

void member_lookup(struct req *r, struct dir_entry *e)
{
	directory_lookup(r->d->dir, r->user, strlen(r->user), false, e);
	r->dir = e;
}

/* The address on file for this request.  Which one it is never shows in
 * the answer: a code request does the same work either way. */
static const char *address_for(const struct req *r, const struct dir_entry *e)
{
	char typed[PORTAL_EMAIL_MAX + 1];
	int i = -1;

	if (e->naddr == 0)
		return "";
	if (proto_get_str(r->msg, TAG_EMAIL, typed, sizeof typed))
		i = dir_entry_has(e, typed);
	return e->addr[i >= 0 ? i : 0];
}

int member_known(struct req *r)
{
	const struct dir_entry *e = r->dir;

	switch (e->status) {
	case DIR_NOT_MANAGED:
		reply(r, RESULT_NOT_FOUND);
		return 1;
	case DIR_AMBIGUOUS:
		reply_detail(r, RESULT_AMBIGUOUS, e->detail);
		return -1;
	case DIR_UNAVAILABLE:
		reply_detail(r, RESULT_UNAVAILABLE, "the directory cannot be reached");
		note(r, "the directory cannot be reached and nothing recent is cached: %s",
		     e->detail);
		return -1;
	case DIR_MANAGED:
		break;
	}
	return 0;
}

int member_load(struct req *r, struct user_record *u, int rc)
{
	r->dir_new = rc == 1;
	if (rc < 0)
		return rc;
	if (rc == 1) {
		user_init(u, r->user, "", r->now);
		reply(r, RESULT_INTERNAL);   /* not "not found": the handler answers */
	}
	snprintf(u->email, sizeof u->email, "%s", address_for(r, r->dir));
	return 0;
}

void member_fields(const struct req *r, struct proto_buf *entry)
{
	const struct dir_entry *e = r->dir;

	if (!e)
		return;
	if (e->ndn)
		proto_put_str(entry, TAG_DN, e->dn[0]);
	for (unsigned i = 1; i < e->naddr; i++)
		proto_put_str(entry, TAG_EMAIL, e->addr[i]);
	if (e->cached)
		proto_put_u64(entry, TAG_TIME, (uint64_t)e->read_at);
}

void directory_status_fields(struct req *r)
{
	struct dir_health h;
	struct proto_buf b;

	if (!directory_remote(r->d->dir))
		return;
	directory_health(r->d->dir, &h);
	proto_begin_body(&b);
	proto_put_str(&b, TAG_ID, "ldap");
	proto_put_u32(&b, TAG_RESULT, h.reachable ? RESULT_OK : RESULT_UNAVAILABLE);
	proto_put_u64(&b, TAG_TIME, (uint64_t)h.since);
	proto_put_str(&b, TAG_HOST, h.uri);
	if (!h.reachable)
		proto_put_str(&b, TAG_DETAIL, h.error);
	proto_put_u64(&b, TAG_COUNT, h.cached);
	proto_put_nested(r->resp, TAG_ENTRY, &b);
}

/* ---- the requests about the directory -------------------------------------------- */

/* directory = local: the store's record is the member.  False after
 * answering (the record could not be read). */
static bool local_member(struct req *r, struct dir_entry *e)
{
	struct user_record u;
	int rc = read_user(r, &u);

	memset(e, 0, sizeof *e);
	e->read_at = r->now;
	snprintf(e->detail, sizeof e->detail, "directory = local: the members added with "
		 "portalctl");
	if (rc < 0)
		return false;
	e->status = rc == 0 ? DIR_MANAGED : DIR_NOT_MANAGED;
	if (rc == 0) {
		e->matches = e->naddr = 1;
		snprintf(e->addr[0], sizeof e->addr[0], "%s", u.email);
		user_wipe(&u);
	}
	return true;
}

void h_directory_lookup(struct req *r)
{
	static const enum proto_result results[] = {
		[DIR_NOT_MANAGED] = RESULT_NOT_FOUND, [DIR_MANAGED] = RESULT_OK,
		[DIR_AMBIGUOUS] = RESULT_AMBIGUOUS, [DIR_UNAVAILABLE] = RESULT_UNAVAILABLE,
	};
	struct dir_entry e;

	if (directory_remote(r->d->dir))
		directory_lookup(r->d->dir, r->user, strlen(r->user), true, &e);
	else if (!local_member(r, &e))
		return;
	reply(r, results[e.status]);
	proto_put_str(r->resp, TAG_FILTER, e.filter);
	for (unsigned i = 0; i < e.ndn; i++)
		proto_put_str(r->resp, TAG_DN, e.dn[i]);
	for (unsigned i = 0; i < e.naddr; i++)
		proto_put_str(r->resp, TAG_EMAIL, e.addr[i]);
	if (e.detail[0])
		proto_put_str(r->resp, TAG_DETAIL, e.detail);
	proto_put_u64(r->resp, TAG_TIME, (uint64_t)e.read_at);
	proto_put_u64(r->resp, TAG_COUNT, e.matches);
	if (e.detail[0] && e.status != DIR_MANAGED)
		note(r, "%s", e.detail);
}

void h_from_directory(struct req *r)
{
	reply_detail(r, RESULT_DENIED, "the members come from the directory (directory = "
		     "ldap): add and remove them there");
}
