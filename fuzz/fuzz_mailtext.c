/*
 * fuzz_mailtext.c - building the mails (helper/mailtext.c) from values a
 * person or an administrator chose: the organization, the addresses, the
 * display name of From, the user name, the remote host.  Whatever they hold: no crash, and a mail
 * that is built has exactly the headers portald writes, each once, lines
 * ending in CRLF and no longer than 998 characters, a body of printable
 * ASCII (quoted-printable), and the code in it.
 */
#include "fuzz.h"
#include "mailtext.h"

static const char *const headers[] = {
	"From:", "To:", "Subject:", "Date:", "Message-ID:", "MIME-Version:", "Content-Type:",
	"Content-Transfer-Encoding:", "Content-Language:", "Auto-Submitted:",
};
#define NHEADERS (sizeof headers / sizeof headers[0])

static void check_mail(const char *m, size_t len, const char *code)
{
	const char *end = strstr(m, "\r\n\r\n");
	unsigned seen[NHEADERS] = { 0 };
	const char *line = m;

	FUZZ_CHECK(end && strlen(m) == len);
	while (line < end + 2) {
		const char *eol = strstr(line, "\r\n");
		size_t i;

		FUZZ_CHECK(eol && eol - line <= 998);
		FUZZ_CHECK(!memchr(line, '\n', (size_t)(eol - line)) &&
			   !memchr(line, '\r', (size_t)(eol - line)));
		if (line[0] != ' ' && line[0] != '\t') {
			for (i = 0; i < NHEADERS; i++)
				if (strncmp(line, headers[i], strlen(headers[i])) == 0)
					break;
			FUZZ_CHECK(i < NHEADERS);
			seen[i]++;
		}
		line = eol + 2;
	}
	for (size_t i = 0; i < NHEADERS; i++)
		FUZZ_CHECK(seen[i] == 1);
	for (const char *b = end + 4; *b; b++)
		FUZZ_CHECK((*b >= ' ' && *b <= '~') || *b == '\r' || *b == '\n');
	if (code)
		FUZZ_CHECK(strstr(end, code) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[MAIL_TEXT_MAX];
	char *buf = malloc(size + 1);
	const char *p[7];
	struct mail_head h;
	ssize_t n;

	if (!buf)
		return 0;
	fuzz_split(data, size, buf, p, 7);
	h.organization = p[0];
	h.from = p[1];
	h.to = p[2];
	h.lang = size && (data[0] & 1) ? LANG_EN : LANG_FR;
	h.date = (time_t)(size > 1 ? data[1] : 0) * 86400 * 30;
	h.from_name = p[6];

	n = mailtext_code(&h, p[3], p[4], size > 2 ? data[2] * 60ull : 600, out, sizeof out);
	if (n >= 0)
		check_mail(out, (size_t)n, p[4]);
	n = mailtext_notice(&h, p[3], h.date, p[5], out, sizeof out);
	if (n >= 0)
		check_mail(out, (size_t)n, NULL);
	n = mailtext_header("Subject", p[0], out, sizeof out);
	if (n >= 0) {
		/* One header: every line break but the last is a fold. */
		FUZZ_CHECK(n >= 2 && strncmp(out, "Subject: ", 9) == 0 &&
			   strcmp(out + n - 2, "\r\n") == 0);
		for (const char *b = strstr(out, "\r\n"); b < out + n - 2; b = strstr(b + 2, "\r\n"))
			FUZZ_CHECK(b[2] == ' ' || b[2] == '\t');
	}
	free(buf);
	return 0;
}
