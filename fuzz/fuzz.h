/*
 * fuzz.h - what the libFuzzer targets share: cutting one input into
 * several strings, and stopping loudly when a property does not hold
 * (libFuzzer keeps the input that made it stop).
 */
#ifndef PORTAL_FUZZ_H
#define PORTAL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, \
				__LINE__, #cond);                               \
			abort();                                                \
		}                                                               \
	} while (0)

/* Cut data at each '\n' into at most n NUL-terminated strings held in buf
 * (size + 1 bytes); strings past the input are "".  An embedded NUL stays
 * in (C code then sees a shorter string, as it would from a peer). */
static inline void fuzz_split(const uint8_t *data, size_t size, char *buf,
			      const char **parts, size_t n)
{
	size_t k = 0;

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i < n; i++)
		parts[i] = buf + size;
	parts[k++] = buf;
	for (size_t i = 0; i < size && k < n; i++) {
		if (buf[i] == '\n') {
			buf[i] = '\0';
			parts[k++] = buf + i + 1;
		}
	}
}

#endif
