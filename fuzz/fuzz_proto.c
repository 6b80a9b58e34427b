/*
 * fuzz_proto.c - the wire decoder (common/proto.c), which portald runs on
 * every byte a local user sends.  Whatever the input: no crash, no read
 * outside it, and what the decoder accepts holds together: fields lie
 * inside the frame, strings copied out are what the field held, and a
 * frame rebuilt from the fields decodes to the same fields.
 */
#include "fuzz.h"
#include "proto.h"

static struct proto_msg msg, again, nested;
static struct proto_buf rebuilt;

static void check_fields(const uint8_t *data, size_t size, const struct proto_msg *m)
{
	char s[PROTO_MAX_BODY + 1];
	uint32_t u32;
	uint64_t u64;

	FUZZ_CHECK(m->nfields <= PROTO_MAX_FIELDS);
	for (size_t i = 0; i < m->nfields; i++) {
		const struct proto_field *f = &m->f[i];

		FUZZ_CHECK(f->data >= data && f->data + f->len <= data + size);
		if (proto_get_str(m, f->tag, s, sizeof s)) {
			const struct proto_field *first = proto_find(m, f->tag);

			FUZZ_CHECK(strlen(s) == first->len && memcmp(s, first->data, first->len) == 0);
		}
		if (proto_get_u32(m, f->tag, &u32))
			FUZZ_CHECK(proto_find(m, f->tag)->len == 4);
		if (proto_get_u64(m, f->tag, &u64))
			FUZZ_CHECK(proto_find(m, f->tag)->len == 8);
		if (f->tag == TAG_ENTRY && proto_parse_body(f->data, f->len, &nested))
			FUZZ_CHECK(nested.nfields <= PROTO_MAX_FIELDS);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t framed = size >= PROTO_HEADER ? proto_frame_size(data) : 0;

	if (framed)
		FUZZ_CHECK(framed >= PROTO_HEADER && framed <= PROTO_MAX_FRAME);
	if (!proto_parse(data, size, &msg))
		return 0;
	/* Only a whole frame, exactly as long as its header says, is taken. */
	FUZZ_CHECK(framed == size);
	check_fields(data, size, &msg);

	proto_begin(&rebuilt, msg.type);
	for (size_t i = 0; i < msg.nfields; i++)
		proto_put_bytes(&rebuilt, msg.f[i].tag, msg.f[i].data, msg.f[i].len);
	FUZZ_CHECK(proto_finish(&rebuilt) && rebuilt.len == size);
	FUZZ_CHECK(memcmp(rebuilt.data, data, size) == 0);
	FUZZ_CHECK(proto_parse(rebuilt.data, rebuilt.len, &again) &&
		   again.nfields == msg.nfields && again.type == msg.type);
	return 0;
}
