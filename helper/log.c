/*
 * log.c - portald's log: syslog (LOG_AUTHPRIV) or, with -f, stderr.
 *
 * Messages are formatted first and control characters replaced, so a user
 * name or an address that slipped through with a newline in it cannot forge
 * a second log line.  Both paths are thread-safe: vsyslog is, and the
 * stderr line goes out in a single write.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static bool log_to_stderr;

void log_open(bool to_stderr)
{
	log_to_stderr = to_stderr;
	if (!to_stderr)
		openlog("portald", LOG_PID, LOG_AUTHPRIV);
}

static const char *level_name(int prio)
{
	static const char *const names[] = {
		[LOG_EMERG] = "emergency",
		[LOG_ALERT] = "alert",
		[LOG_CRIT] = "critical",
		[LOG_ERR] = "error",
		[LOG_WARNING] = "warning",
		[LOG_NOTICE] = "notice",
		[LOG_INFO] = "info",
		[LOG_DEBUG] = "debug",
	};

	return names[LOG_PRI(prio)];
}

/* Replace bytes a terminal or a log reader would act on. */
static void defang(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void write_stderr(int prio, const char *msg)
{
	/* Room for the prefix: msg is at most LOG_LINE_MAX - 1 bytes. */
	char line[LOG_LINE_MAX + 64];
	int n = snprintf(line, sizeof line, "portald[%ld]: %s: %s\n",
			 (long)getpid(), level_name(prio), msg);
	size_t len = n > 0 ? (size_t)n : 0;
	size_t off = 0;

	/* One write per line keeps lines from concurrent threads whole. */
	while (off < len) {
		ssize_t w = write(STDERR_FILENO, line + off, len - off);

		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

void log_msg(int prio, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	defang(msg);

	if (log_to_stderr)
		write_stderr(prio, msg);
	else
		syslog(prio, "%s", msg);
}
