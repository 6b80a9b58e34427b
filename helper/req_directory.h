/*
 * req_directory.h - requests and the members' directory (directory.h):
 * the directory asked before a request that names a user is answered
 * (directory = ldap), that answer in place of the store's word on who is
 * managed and where to mail, and the requests about the directory itself.
 */
#ifndef PORTAL_REQ_DIRECTORY_H
#define PORTAL_REQ_DIRECTORY_H

#include "directory.h"
#include "request.h"

/* No lock held: the directory's answer for r->user, into e, which the
 * request then uses (r->dir). */
void member_lookup(struct req *r, struct dir_entry *e);
/* load_user and read_user with r->dir.  Before the store is read, the
 * directory's word: 0 managed; 1 not managed (RESULT_NOT_FOUND answered);
 * -1 ambiguous (RESULT_AMBIGUOUS) or unavailable (RESULT_UNAVAILABLE). */
int member_known(struct req *r);
/* After (rc: what the store said, 0 read, 1 no record, -1 trouble): a
 * member without a record gets a new one, which commit inserts if the
 * request changes it (r->dir_new); the address on file is the
 * directory's, the one typed (TAG_EMAIL) if it is one of the entry's,
 * else the first.  0, or rc when below 0. */
int member_load(struct req *r, struct user_record *u, int rc);
/* An administrator's view of a member (user show): the entry's DN and its
 * other addresses added to the entry body. */
void member_fields(const struct req *r, struct proto_buf *entry);
/* portalctl status: the directory's health, one TAG_ENTRY {TAG_ID "ldap",
 * TAG_RESULT OK | UNAVAILABLE, TAG_TIME since, TAG_HOST the server,
 * TAG_DETAIL the last error, TAG_COUNT answers kept}; nothing for local. */
void directory_status_fields(struct req *r);

/* REQ_DIRECTORY_LOOKUP: how r->user is looked up, asking the directory now:
 * OK | NOT_FOUND | AMBIGUOUS | UNAVAILABLE, TAG_FILTER, TAG_DN*, TAG_EMAIL*,
 * [TAG_DETAIL], TAG_TIME (when read), TAG_COUNT (entries found). */
void h_directory_lookup(struct req *r);
/* REQ_USER_LIST with directory = ldap: the directory's members (every
 * page of its paged search, on the first request) with their portal
 * state, PROTO_PAGE at a time. */
void h_directory_list(struct req *r);
/* REQ_USER_ADD, REQ_USER_DEL, REQ_IMPORT with directory = ldap: refused,
 * the directory being where members are added and removed. */
void h_from_directory(struct req *r);

#endif
