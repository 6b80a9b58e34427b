/*
 * proto.c - encoder, decoder and deadline-bound I/O for the portal protocol.
 * See proto.h for the frame layout.  The decoder trusts nothing: every
 * length is checked against what is left of the buffer before it is used.
 */
#include "proto.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"

static const uint8_t magic[2] = { 'P', 'P' };

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void proto_begin(struct proto_buf *b, uint8_t type)
{
	memcpy(b->data, magic, 2);
	b->data[2] = PROTO_VERSION;
	b->data[3] = type;
	put_be32(b->data + 4, 0);
	b->len = PROTO_HEADER;
	b->overflow = false;
}

void proto_begin_body(struct proto_buf *b)
{
	b->len = 0;
	b->overflow = false;
}

void proto_put_bytes(struct proto_buf *b, uint8_t tag, const void *p, size_t n)
{
	if (b->overflow || n > UINT16_MAX || b->len + 3 + n > PROTO_MAX_FRAME) {
		b->overflow = true;
		return;
	}
	b->data[b->len] = tag;
	put_be16(b->data + b->len + 1, (uint16_t)n);
	if (n)
		memcpy(b->data + b->len + 3, p, n);
	b->len += 3 + n;
}

void proto_put_str(struct proto_buf *b, uint8_t tag, const char *s)
{
	proto_put_bytes(b, tag, s, strlen(s));
}

void proto_put_u32(struct proto_buf *b, uint8_t tag, uint32_t v)
{
	uint8_t be[4];

	put_be32(be, v);
	proto_put_bytes(b, tag, be, sizeof be);
}

void proto_put_u64(struct proto_buf *b, uint8_t tag, uint64_t v)
{
	uint8_t be[8];

	put_be32(be, (uint32_t)(v >> 32));
	put_be32(be + 4, (uint32_t)v);
	proto_put_bytes(b, tag, be, sizeof be);
}

void proto_put_nested(struct proto_buf *b, uint8_t tag, const struct proto_buf *inner)
{
	if (inner->overflow) {
		b->overflow = true;
		return;
	}
	proto_put_bytes(b, tag, inner->data, inner->len);
}

bool proto_finish(struct proto_buf *b)
{
	if (b->overflow || b->len < PROTO_HEADER || b->len - PROTO_HEADER > PROTO_MAX_BODY)
		return false;
	put_be32(b->data + 4, (uint32_t)(b->len - PROTO_HEADER));
	return true;
}

void proto_wipe(struct proto_buf *b)
{
	explicit_bzero(b->data, b->len);
	b->len = 0;
}

size_t proto_frame_size(const uint8_t h[PROTO_HEADER])
{
	uint32_t body;

	if (memcmp(h, magic, 2) != 0 || h[2] != PROTO_VERSION)
		return 0;
	body = get_be32(h + 4);
	if (body > PROTO_MAX_BODY)
		return 0;
	return PROTO_HEADER + body;
}

bool proto_parse_body(const uint8_t *p, size_t n, struct proto_msg *m)
{
	size_t off = 0;

	m->nfields = 0;
	while (off < n) {
		uint16_t len;

		if (n - off < 3 || m->nfields == PROTO_MAX_FIELDS)
			return false;
		len = (uint16_t)(p[off + 1] << 8 | p[off + 2]);
		if (n - off - 3 < len)
			return false;
		m->f[m->nfields].tag = p[off];
		m->f[m->nfields].len = len;
		m->f[m->nfields].data = p + off + 3;
		m->nfields++;
		off += 3 + (size_t)len;
	}
	return true;
}

bool proto_parse(const uint8_t *frame, size_t n, struct proto_msg *m)
{
	if (n < PROTO_HEADER || proto_frame_size(frame) != n)
		return false;
	m->type = frame[3];
	return proto_parse_body(frame + PROTO_HEADER, n - PROTO_HEADER, m);
}

const struct proto_field *proto_find(const struct proto_msg *m, uint8_t tag)
{
	for (size_t i = 0; i < m->nfields; i++)
		if (m->f[i].tag == tag)
			return &m->f[i];
	return NULL;
}

bool proto_get_str(const struct proto_msg *m, uint8_t tag, char *out, size_t cap)
{
	const struct proto_field *f = proto_find(m, tag);

	if (!f || cap == 0 || f->len >= cap || memchr(f->data, '\0', f->len))
		return false;
	memcpy(out, f->data, f->len);
	out[f->len] = '\0';
	return true;
}

bool proto_get_fixed(const struct proto_msg *m, uint8_t tag, void *out, size_t n)
{
	const struct proto_field *f = proto_find(m, tag);

	if (!f || f->len != n)
		return false;
	memcpy(out, f->data, n);
	return true;
}

bool proto_get_u32(const struct proto_msg *m, uint8_t tag, uint32_t *v)
{
	uint8_t be[4];

	if (!proto_get_fixed(m, tag, be, sizeof be))
		return false;
	*v = get_be32(be);
	return true;
}

bool proto_get_u64(const struct proto_msg *m, uint8_t tag, uint64_t *v)
{
	uint8_t be[8];

	if (!proto_get_fixed(m, tag, be, sizeof be))
		return false;
	*v = (uint64_t)get_be32(be) << 32 | get_be32(be + 4);
	return true;
}

/* ---- I/O ---------------------------------------------------------------- */

/* Wait until fd is ready for `events` or the deadline passes. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - clock_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int r;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* Each read and write is tried first and waited for only when the socket
 * is not ready (MSG_DONTWAIT, whether or not the fd blocks): a poll before
 * every call would double the system calls of an exchange.  After a try
 * that failed (errno says why): 0 to try again, -1 to give up. */
static int retry(int fd, short events, long long deadline)
{
	if (errno == EINTR)
		return 0;
	return errno == EAGAIN ? wait_fd(fd, events, deadline) : -1;
}

static int read_exact(int fd, uint8_t *p, size_t n, long long deadline)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, p + got, n - got, MSG_DONTWAIT);

		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (r < 0 && retry(fd, POLLIN, deadline) < 0)
			return -1;
		if (r > 0)
			got += (size_t)r;
	}
	return 0;
}

ssize_t proto_read_frame(int fd, uint8_t *buf, int timeout_ms)
{
	long long deadline = clock_ms() + timeout_ms;
	size_t total;

	/* The answer is seldom there yet: wait for it, then read it whole. */
	if (wait_fd(fd, POLLIN, deadline) < 0 ||
	    read_exact(fd, buf, PROTO_HEADER, deadline) < 0)
		return -1;
	total = proto_frame_size(buf);
	if (total == 0) {
		errno = EPROTO;
		return -1;
	}
	if (read_exact(fd, buf + PROTO_HEADER, total - PROTO_HEADER, deadline) < 0)
		return -1;
	return (ssize_t)total;
}

int proto_write_frame(int fd, const struct proto_buf *b, int timeout_ms)
{
	return proto_write_all(fd, b->data, b->len, timeout_ms);
}

int proto_write_all(int fd, const uint8_t *p, size_t len, int timeout_ms)
{
	long long deadline = clock_ms() + timeout_ms;
	size_t sent = 0;

	while (sent < len) {
		ssize_t w = send(fd, p + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && retry(fd, POLLOUT, deadline) < 0)
			return -1;
		if (w > 0)
			sent += (size_t)w;
	}
	return 0;
}

/* ---- names -------------------------------------------------------------- */

static const char *const state_names[] = {
	[STATE_UNMANAGED] = "unmanaged",
	[STATE_PENDING] = "pending",
	[STATE_ACTIVE] = "active",
	[STATE_LOCKED] = "locked",
};

const char *proto_state_name(enum portal_state s)
{
	if ((size_t)s < sizeof state_names / sizeof state_names[0])
		return state_names[s];
	return "?";
}

bool proto_state_parse(const char *name, enum portal_state *s)
{
	for (size_t i = 1; i < sizeof state_names / sizeof state_names[0]; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*s = (enum portal_state)i;
			return true;
		}
	}
	return false;
}

static const char *const result_names[] = {
	[RESULT_OK] = "ok",
	[RESULT_BAD_REQUEST] = "bad request",
	[RESULT_DENIED] = "permission denied",
	[RESULT_INVALID] = "invalid value",
	[RESULT_NOT_FOUND] = "no such managed user",
	[RESULT_EXISTS] = "user already managed",
	[RESULT_LOCKED] = "user locked",
	[RESULT_WAIT] = "too soon",
	[RESULT_CODE_WRONG] = "wrong code",
	[RESULT_CODE_EXPIRED] = "code expired",
	[RESULT_CODE_DEAD] = "no live code",
	[RESULT_TICKET] = "reset ticket refused",
	[RESULT_POLICY] = "password refused by policy",
	[RESULT_PASSWORD] = "wrong password",
	[RESULT_STATE] = "not allowed in this state",
	[RESULT_STORAGE] = "database write failed",
	[RESULT_BUSY] = "helper busy",
	[RESULT_INTERNAL] = "internal error",
	[RESULT_PARTIAL] = "some lines refused",
	[RESULT_UNAVAILABLE] = "unavailable",
	[RESULT_AMBIGUOUS] = "ambiguous",
};

const char *proto_result_name(enum proto_result r)
{
	if ((size_t)r < sizeof result_names / sizeof result_names[0] && result_names[r])
		return result_names[r];
	return "unknown result";
}
