/* unit_proto.c - the wire codec refuses every malformed frame it is shown. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"
#include "proto.h"

static struct proto_buf b, inner;
static struct proto_msg m, n;

static void round_trip(void)
{
	char s[32];
	uint32_t v32;
	uint64_t v64;

	proto_begin(&b, REQ_SEND_CODE);
	proto_put_str(&b, TAG_USER, "alice");
	proto_put_u32(&b, TAG_TRIES, 3);
	proto_put_u64(&b, TAG_UNTIL, 0x0123456789abcdefULL);
	CHECK("finish a small frame", proto_finish(&b));
	CHECK("frame size announced in header", proto_frame_size(b.data) == b.len);
	CHECK("parse it back", proto_parse(b.data, b.len, &m));
	CHECK("type kept", m.type == REQ_SEND_CODE);
	CHECK("three fields", m.nfields == 3);
	CHECK("string field", proto_get_str(&m, TAG_USER, s, sizeof s) && strcmp(s, "alice") == 0);
	CHECK("u32 field", proto_get_u32(&m, TAG_TRIES, &v32) && v32 == 3);
	CHECK("u64 field", proto_get_u64(&m, TAG_UNTIL, &v64) && v64 == 0x0123456789abcdefULL);
	CHECK("absent field", !proto_get_str(&m, TAG_EMAIL, s, sizeof s));
	CHECK("u32 read as u64 refused", !proto_get_u64(&m, TAG_TRIES, &v64));
	CHECK("string too long for buffer refused", !proto_get_str(&m, TAG_USER, s, 5));
}

static void nested(void)
{
	char s[16];

	proto_begin_body(&inner);
	proto_put_str(&inner, TAG_USER, "bob");
	proto_begin(&b, PROTO_RESPONSE);
	proto_put_nested(&b, TAG_ENTRY, &inner);
	CHECK("nested finish", proto_finish(&b));
	CHECK("nested outer parse", proto_parse(b.data, b.len, &m));
	CHECK("nested inner parse", proto_parse_body(m.f[0].data, m.f[0].len, &n));
	CHECK("nested value", proto_get_str(&n, TAG_USER, s, sizeof s) && strcmp(s, "bob") == 0);
}

static void malformed(void)
{
	uint8_t nul[] = { 'a', '\0', 'b' };
	char s[16];

	proto_begin(&b, REQ_STATUS);
	proto_put_bytes(&b, TAG_USER, nul, sizeof nul);
	proto_finish(&b);
	CHECK("NUL inside a string refused", proto_parse(b.data, b.len, &m) &&
	      !proto_get_str(&m, TAG_USER, s, sizeof s));

	proto_begin(&b, REQ_STATUS);
	proto_put_str(&b, TAG_USER, "alice");
	proto_finish(&b);
	CHECK("truncated frame refused", !proto_parse(b.data, b.len - 1, &m));
	b.data[0] = 'X';
	CHECK("bad magic refused", proto_frame_size(b.data) == 0);
	b.data[0] = 'P';
	b.data[2] = PROTO_VERSION + 1;
	CHECK("other version refused", proto_frame_size(b.data) == 0);
	b.data[2] = PROTO_VERSION;
	b.data[4] = 0x7f;
	CHECK("oversized body refused", proto_frame_size(b.data) == 0);
	b.data[4] = 0;

	/* a field length running past the end of the body */
	proto_begin(&b, REQ_STATUS);
	proto_put_str(&b, TAG_USER, "alice");
	proto_finish(&b);
	b.data[PROTO_HEADER + 2] = 200;
	CHECK("field longer than body refused", !proto_parse(b.data, b.len, &m));

	/* a dangling partial field header */
	uint8_t body[2] = { TAG_USER, 0 };
	CHECK("partial field header refused", !proto_parse_body(body, sizeof body, &m));
}

static void overflow(void)
{
	static char big[70000];

	memset(big, 'x', sizeof big - 1);
	proto_begin(&b, REQ_STATUS);
	proto_put_str(&b, TAG_USER, big);
	CHECK("a field over 64 KiB overflows", b.overflow && !proto_finish(&b));
	proto_begin(&b, REQ_STATUS);
	for (int i = 0; i < 30; i++)
		proto_put_bytes(&b, TAG_DETAIL, big, 4000);
	CHECK("a body over the limit cannot be finished", !proto_finish(&b));
}

static void too_many_fields(void)
{
	proto_begin(&b, REQ_STATUS);
	for (int i = 0; i < PROTO_MAX_FIELDS + 1; i++)
		proto_put_u32(&b, TAG_TRIES, 1);
	CHECK("field count limit", proto_finish(&b) && !proto_parse(b.data, b.len, &m));
}

static void io(void)
{
	static uint8_t frame[PROTO_MAX_FRAME];
	int sv[2];
	ssize_t len;

	CHECK("socketpair", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	proto_begin(&b, REQ_STATUS);
	proto_put_str(&b, TAG_USER, "carol");
	proto_finish(&b);
	CHECK("write a frame", proto_write_frame(sv[0], &b, 1000) == 0);
	len = proto_read_frame(sv[1], frame, 1000);
	CHECK("read the same frame", len == (ssize_t)b.len && memcmp(frame, b.data, b.len) == 0);

	/* half a header, then silence: the read must give up at its deadline */
	CHECK("write half a header", write(sv[0], "PP", 2) == 2);
	errno = 0;
	CHECK("slow peer times out", proto_read_frame(sv[1], frame, 100) < 0 && errno == ETIMEDOUT);
	close(sv[0]);
	CHECK("EOF is an error", proto_read_frame(sv[1], frame, 100) < 0);
	close(sv[1]);

	proto_begin(&b, REQ_STATUS);
	proto_put_str(&b, TAG_PASSWORD, "secret");
	proto_wipe(&b);
	CHECK("wipe empties the buffer", b.len == 0 && memchr(b.data, 's', 32) == NULL);
}

static void names(void)
{
	enum portal_state s;

	CHECK("state names", strcmp(proto_state_name(STATE_LOCKED), "locked") == 0);
	CHECK("state parse", proto_state_parse("active", &s) && s == STATE_ACTIVE);
	CHECK("state parse refuses unmanaged", !proto_state_parse("unmanaged", &s));
	CHECK("result names", strcmp(proto_result_name(RESULT_OK), "ok") == 0 &&
	      strcmp(proto_result_name(RESULT_NOT_FOUND), "no such managed user") == 0);
	CHECK("RESULT_OK is zero even with unistd.h", RESULT_OK == 0);
}

int main(void)
{
	round_trip();
	nested();
	malformed();
	overflow();
	too_many_fields();
	io();
	names();
	return check_done();
}
