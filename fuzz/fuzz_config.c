/*
 * fuzz_config.c - the portald.conf parser (helper/config.c) and the
 * duration parser it uses.  Whatever the file: no crash; a refusal names
 * the file; what is accepted is within the documented bounds, with no
 * control character in any string.
 */
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz.h"
#include "config.h"
#include "valid.h"

static int fd = -1;
static char path[64];

static int no_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static void check_config(const struct portal_config *c)
{
	FUZZ_CHECK(c->socket[0] == '/' && c->database[0] == '/');
	FUZZ_CHECK(c->code_length >= 6 && c->code_length <= 10);
	FUZZ_CHECK(c->password_min_length >= 8);
	FUZZ_CHECK(c->code_attempts >= 1 && c->codes_per_hour >= 1 && c->lockout >= 1);
	FUZZ_CHECK(c->smtp_port >= 1 && c->smtp_port <= 65535);
	FUZZ_CHECK(valid_email(c->mail_from) && valid_text(c->mail_from_name));
	FUZZ_CHECK(c->user[0] == '\0' || valid_user(c->user));
	FUZZ_CHECK(strlen(c->cutover_str) == 10);
	FUZZ_CHECK(no_control(c->organization) && no_control(c->smtp_user) &&
		   no_control(c->smtp_host) && no_control(c->socket) &&
		   no_control(c->database) && no_control(c->smtp_password_file));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct portal_config c;
	char err[512] = "", dur[32];
	unsigned secs;

	if (fd < 0) {
		fd = memfd_create("portald.conf", MFD_CLOEXEC);
		FUZZ_CHECK(fd >= 0);
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size);
	if (config_load(path, &c, err, sizeof err) == 0)
		check_config(&c);
	else
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);

	/* The first line alone as a duration: at most a week, in seconds. */
	snprintf(dur, sizeof dur, "%.*s", (int)(size < 31 ? size : 31), (const char *)data);
	dur[strcspn(dur, "\n")] = '\0';
	if (config_duration(dur, &secs))
		FUZZ_CHECK(secs <= 7u * 24 * 3600);
	return 0;
}
