/*
 * fuzz_valid.c - what a user name and an e-mail address may be
 * (helper/valid.c).  Both go into mail headers, log lines and prompts, so
 * whatever is accepted must carry nothing that could start a new header, a
 * second recipient or a terminal escape; and the address comparison must
 * agree with a plain case-insensitive one.
 */
#include <strings.h>
#include "fuzz.h"
#include "proto.h"
#include "valid.h"

/* Bytes no accepted name or address may hold. */
static int dangerous(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f ||
		    strchr("<>()[]\\,;:\"", *s))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	const char *p[2];

	if (!buf)
		return 0;
	fuzz_split(data, size, buf, p, 2);
	for (int i = 0; i < 2; i++) {
		if (valid_user(p[i]))
			FUZZ_CHECK(!dangerous(p[i]) && strlen(p[i]) <= PORTAL_USER_MAX &&
				   p[i][0] != '-');
		if (valid_email(p[i]))
			FUZZ_CHECK(!dangerous(p[i]) && strlen(p[i]) <= PORTAL_EMAIL_MAX &&
				   strchr(p[i], '@') == strrchr(p[i], '@'));
	}
	if (strlen(p[0]) <= PORTAL_EMAIL_MAX && strlen(p[1]) <= PORTAL_EMAIL_MAX)
		FUZZ_CHECK(email_equal(p[0], p[1]) == (strcasecmp(p[0], p[1]) == 0));
	FUZZ_CHECK(email_equal(p[0], p[0]) == (strlen(p[0]) <= PORTAL_EMAIL_MAX));
	free(buf);
	return 0;
}
