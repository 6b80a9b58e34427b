/* unit_record.c - the record codec: a struct written by its table of
 * fields reads back the same, each rule decides what is written, and a
 * body that does not follow the table is refused. */
#include <stddef.h>
#include <string.h>
#include "check.h"
#include "record.h"

struct sample {
	char name[8];
	uint32_t count;
	uint64_t when;
	bool flag;
	uint8_t hash[4];
	const uint8_t *blob;
	size_t bloblen;
	uint64_t list[3];
	unsigned nlist;
	uint64_t expires;
	uint32_t tries;
};

enum { S_NAME, S_COUNT, S_WHEN, S_FLAG, S_HASH, S_EXPIRES, S_TRIES, S_BLOB, S_LIST };

enum { T_NAME = 1, T_COUNT, T_WHEN, T_FLAG, T_HASH, T_EXPIRES, T_TRIES, T_BLOB, T_LIST };

#define AT(m) RECORD_AT(struct sample, m)

static const struct record_field fields[] = {
	[S_NAME] = { T_NAME, RF_STR, AT(name) },
	[S_COUNT] = { T_COUNT, RF_U32, AT(count), .rule = RULE_OPTIONAL },
	[S_WHEN] = { T_WHEN, RF_U64, AT(when), .rule = RULE_OPTIONAL },
	[S_FLAG] = { T_FLAG, RF_BOOL, AT(flag), .rule = RULE_OPTIONAL },
	[S_HASH] = { T_HASH, RF_FIXED, AT(hash), .rule = RULE_WITH, .when = S_EXPIRES },
	[S_EXPIRES] = { T_EXPIRES, RF_U64, AT(expires), .rule = RULE_NONZERO },
	[S_TRIES] = { T_TRIES, RF_U32, AT(tries), .rule = RULE_IF, .when = S_EXPIRES },
	[S_BLOB] = { T_BLOB, RF_BYTES, AT(blob), .rule = RULE_NONZERO,
		     .len_off = offsetof(struct sample, bloblen) },
	[S_LIST] = { T_LIST, RF_U64_LIST, AT(list), .rule = RULE_OPTIONAL,
		     .len_off = offsetof(struct sample, nlist) },
};

static const struct record_layout layout = RECORD_LAYOUT(struct sample, fields);

static struct proto_buf b;
static struct proto_msg m;

static bool encode_parse(const struct sample *s)
{
	record_encode(&layout, s, &b);
	return !b.overflow && proto_parse_body(b.data, b.len, &m);
}

static void round_trip(void)
{
	static const uint8_t blob[] = { 9, 8, 7 };
	struct sample s = { .name = "alice", .count = 7, .when = 1700000000, .flag = true,
			    .hash = { 1, 2, 3, 4 }, .blob = blob, .bloblen = sizeof blob,
			    .list = { 10, 20 }, .nlist = 2, .expires = 99, .tries = 3 };
	struct sample r;

	CHECK("a full record is written", encode_parse(&s));
	CHECK("written in the order of the table", m.nfields == 10 && m.f[0].tag == T_NAME &&
	      m.f[4].tag == T_HASH && m.f[7].tag == T_BLOB && m.f[8].tag == T_LIST &&
	      m.f[9].tag == T_LIST);
	CHECK("and read back", record_decode(&layout, &m, &r));
	CHECK("every value the same", strcmp(r.name, "alice") == 0 && r.count == 7 &&
	      r.when == 1700000000 && r.flag && memcmp(r.hash, s.hash, 4) == 0 &&
	      r.expires == 99 && r.tries == 3 && r.nlist == 2 && r.list[0] == 10 &&
	      r.list[1] == 20);
	CHECK("bytes read as a view of the body",
	      r.bloblen == 3 && r.blob >= b.data && r.blob < b.data + b.len &&
	      memcmp(r.blob, blob, 3) == 0);
}

static void rules(void)
{
	struct sample s = { .name = "bob" }, r;

	memset(&r, 0x5a, sizeof r);
	CHECK("a bare record is written", encode_parse(&s));
	CHECK("optional fields written even when zero; the others not",
	      m.nfields == 4 && proto_find(&m, T_COUNT) && proto_find(&m, T_FLAG) &&
	      !proto_find(&m, T_EXPIRES) && !proto_find(&m, T_TRIES) &&
	      !proto_find(&m, T_HASH) && !proto_find(&m, T_BLOB) && !proto_find(&m, T_LIST));
	CHECK("read back, everything else zero", record_decode(&layout, &m, &r) &&
	      strcmp(r.name, "bob") == 0 && r.count == 0 && !r.flag && r.expires == 0 &&
	      r.blob == NULL && r.bloblen == 0 && r.nlist == 0);
}

/* A body the layout is shown: a good name first when named, then times
 * fields of tag, each len bytes of 'x'. */
struct body {
	const char *what;
	bool named;
	uint8_t tag;
	size_t len;
	unsigned times;
	bool read;           /* record_decode takes it */
};

static const struct body bodies[] = {
	{ "a required field missing: refused", false, T_COUNT, 4, 1, false },
	{ "a string too long for the struct: refused", false, T_NAME, 12, 1, false },
	{ "a number of the wrong size: refused", true, T_COUNT, 8, 1, false },
	{ "a flag other than 0 or 1: refused", true, T_FLAG, 4, 1, false },
	{ "an expiry without its hash: refused", true, T_EXPIRES, 8, 1, false },
	{ "a hash without its expiry: refused", true, T_HASH, 4, 1, false },
	{ "more list items than the struct holds: refused", true, T_LIST, 8, 4, false },
	{ "a list item of the wrong size: refused", true, T_LIST, 4, 1, false },
	{ "a field it does not know: ignored", true, 99, 4, 1, true },
};

static void refused(void)
{
	static const char xs[16] = "xxxxxxxxxxxxxxxx";
	struct sample r;

	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		const struct body *t = &bodies[i];

		proto_begin_body(&b);
		if (t->named)
			proto_put_str(&b, T_NAME, "x");
		for (unsigned n = 0; n < t->times; n++)
			proto_put_bytes(&b, t->tag, xs, t->len);
		CHECK(t->what, !b.overflow && proto_parse_body(b.data, b.len, &m) &&
		      record_decode(&layout, &m, &r) == t->read);
	}
}

int main(void)
{
	round_trip();
	rules();
	refused();
	return check_done();
}
