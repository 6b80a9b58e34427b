/*
 * record.c - a struct as a field body and back, by a table of its fields.
 * See record.h.
 */
#include "record.h"

#include <string.h>

static const void *at(const void *rec, size_t off)
{
	return (const char *)rec + off;
}

static void *at_w(void *rec, size_t off)
{
	return (char *)rec + off;
}

/* Does the field hold nothing: zero, "", no bytes, no items? */
static bool is_zero(const struct record_field *f, const void *rec)
{
	const void *p = at(rec, f->off);

	switch ((enum record_type)f->type) {
	case RF_STR:
		return *(const char *)p == '\0';
	case RF_U32:
		return *(const uint32_t *)p == 0;
	case RF_U64:
		return *(const uint64_t *)p == 0;
	case RF_BOOL:
		return !*(const bool *)p;
	case RF_BYTES:
		return *(const size_t *)at(rec, f->len_off) == 0;
	case RF_U64_LIST:
	case RF_LIST:
		return *(const unsigned *)at(rec, f->len_off) == 0;
	case RF_FIXED:
		break;
	}
	for (size_t i = 0; i < f->size; i++)
		if (((const uint8_t *)p)[i])
			return false;
	return true;
}

static bool written(const struct record_layout *l, const struct record_field *f,
		    const void *rec)
{
	switch ((enum record_rule)f->rule) {
	case RULE_REQUIRED:
	case RULE_OPTIONAL:
		break;
	case RULE_NONZERO:
		return !is_zero(f, rec);
	case RULE_IF:
	case RULE_WITH:
		return !is_zero(&l->field[f->when], rec);
	}
	return true;
}

static void put_fields(const struct record_layout *l, const void *rec, struct proto_buf *b);

/* Each item of a list as one field, its body written in place after a
 * header whose length is filled in once the body is there. */
static void put_items(const struct record_field *f, const void *rec, struct proto_buf *b)
{
	const struct record_layout *sub = f->sub;
	const char *items = at(rec, f->off);
	unsigned n = *(const unsigned *)at(rec, f->len_off);

	for (unsigned i = 0; i < n && !b->overflow; i++) {
		size_t head = b->len, len;

		if (head + 3 > PROTO_MAX_FRAME) {
			b->overflow = true;
			return;
		}
		b->len += 3;
		put_fields(sub, items + (size_t)i * sub->size, b);
		len = b->len - head - 3;
		if (len > UINT16_MAX)
			b->overflow = true;
		if (b->overflow)
			return;
		b->data[head] = f->tag;
		b->data[head + 1] = (uint8_t)(len >> 8);
		b->data[head + 2] = (uint8_t)len;
	}
}

static void put(const struct record_field *f, const void *rec, struct proto_buf *b)
{
	const void *p = at(rec, f->off);

	switch ((enum record_type)f->type) {
	case RF_STR:
		proto_put_str(b, f->tag, p);
		break;
	case RF_U32:
		proto_put_u32(b, f->tag, *(const uint32_t *)p);
		break;
	case RF_U64:
		proto_put_u64(b, f->tag, *(const uint64_t *)p);
		break;
	case RF_BOOL:
		proto_put_u32(b, f->tag, *(const bool *)p);
		break;
	case RF_FIXED:
		proto_put_bytes(b, f->tag, p, f->size);
		break;
	case RF_BYTES:
		proto_put_bytes(b, f->tag, *(const uint8_t *const *)p,
				*(const size_t *)at(rec, f->len_off));
		break;
	case RF_U64_LIST:
		for (unsigned i = 0; i < *(const unsigned *)at(rec, f->len_off); i++)
			proto_put_u64(b, f->tag, ((const uint64_t *)p)[i]);
		break;
	case RF_LIST:
		put_items(f, rec, b);
		break;
	}
}

static void put_fields(const struct record_layout *l, const void *rec, struct proto_buf *b)
{
	for (size_t i = 0; i < l->n; i++)
		if (written(l, &l->field[i], rec))
			put(&l->field[i], rec, b);
}

void record_encode(const struct record_layout *l, const void *rec, struct proto_buf *b)
{
	proto_begin_body(b);
	put_fields(l, rec, b);
}

/* Every field of the list's tag, each a u64, no more than it holds. */
static bool get_list(const struct record_field *f, const struct proto_msg *m, void *rec)
{
	uint64_t *v = at_w(rec, f->off);
	unsigned *count = at_w(rec, f->len_off);

	for (size_t i = 0; i < m->nfields; i++) {
		const struct proto_field *e = &m->f[i];

		if (e->tag != f->tag)
			continue;
		if (e->len != 8 || *count == f->size / sizeof *v)
			return false;
		v[*count] = 0;
		for (unsigned j = 0; j < 8; j++)
			v[*count] = v[*count] << 8 | e->data[j];
		(*count)++;
	}
	return true;
}

/* Every field of the list's tag, each an item of its layout, no more
 * than the array holds. */
static bool get_items(const struct record_field *f, const struct proto_msg *m, void *rec)
{
	const struct record_layout *sub = f->sub;
	char *items = at_w(rec, f->off);
	unsigned *count = at_w(rec, f->len_off);
	struct proto_msg item;

	for (size_t i = 0; i < m->nfields; i++) {
		const struct proto_field *e = &m->f[i];

		if (e->tag != f->tag)
			continue;
		if (*count == f->size / sub->size || !proto_parse_body(e->data, e->len, &item) ||
		    !record_decode(sub, &item, items + (size_t)*count * sub->size))
			return false;
		(*count)++;
	}
	return true;
}

/* The field, which m has (every one of its tag, for a list): false when
 * it is malformed. */
static bool get(const struct record_field *f, const struct proto_msg *m, void *rec)
{
	void *p = at_w(rec, f->off);
	const struct proto_field *e;
	uint32_t n;

	switch ((enum record_type)f->type) {
	case RF_STR:
		return proto_get_str(m, f->tag, p, f->size);
	case RF_U32:
		return proto_get_u32(m, f->tag, p);
	case RF_U64:
		return proto_get_u64(m, f->tag, p);
	case RF_BOOL:
		if (!proto_get_u32(m, f->tag, &n) || n > 1)
			return false;
		*(bool *)p = n == 1;
		return true;
	case RF_FIXED:
		return proto_get_fixed(m, f->tag, p, f->size);
	case RF_BYTES:
		e = proto_find(m, f->tag);
		*(const uint8_t **)p = e->data;
		*(size_t *)at_w(rec, f->len_off) = e->len;
		return true;
	case RF_U64_LIST:
		return get_list(f, m, rec);
	case RF_LIST:
		return get_items(f, m, rec);
	}
	return false;
}

bool record_decode(const struct record_layout *l, const struct proto_msg *m, void *rec)
{
	memset(rec, 0, l->size);
	for (size_t i = 0; i < l->n; i++) {
		const struct record_field *f = &l->field[i];
		bool there = proto_find(m, f->tag) != NULL;

		if (there ? !get(f, m, rec) : f->rule == RULE_REQUIRED)
			return false;
	}
	/* A field that goes with another is there exactly when that one is. */
	for (size_t i = 0; i < l->n; i++) {
		const struct record_field *f = &l->field[i];

		if (f->rule == RULE_WITH &&
		    (proto_find(m, f->tag) != NULL) == is_zero(&l->field[f->when], rec))
			return false;
	}
	return true;
}
