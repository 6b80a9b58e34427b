/*
 * log.h - portald's log: syslog (LOG_AUTHPRIV) or, with -f, stderr.
 * Lines say who, what and the outcome; never a secret.
 */
#ifndef PORTAL_LOG_H
#define PORTAL_LOG_H

#include <stdbool.h>
#include <syslog.h>

void log_open(bool to_stderr);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
