/* unit_store.c - the GDBM layer: records round-trip, survive a reopen,
 * walks see each key once, and errors are errors.  Each group of checks
 * has a new database in a scratch folder of its own. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "fixture.h"
#include "log.h"
#include "store.h"

static char dir[128], db[192];
static struct store *s;
static struct proto_buf b;
static struct proto_msg m;

static void body(const char *value)
{
	proto_begin_body(&b);
	proto_put_str(&b, TAG_EMAIL, value);
}

static bool holds(const char *key, const char *value)
{
	char got[64];

	return store_get(s, key, &b) == 0 && proto_parse_body(b.data, b.len, &m) &&
	       proto_get_str(&m, TAG_EMAIL, got, sizeof got) && strcmp(got, value) == 0;
}

static void basics(void)
{
	struct stat st;

	store_lock(s);
	CHECK("a new database is made, mode 0600", stat(db, &st) == 0 &&
	      (st.st_mode & 07777) == 0600);
	CHECK("absent key", store_get(s, "u:nobody", &b) == 1);
	body("a@example.org");
	CHECK("put", store_put(s, "u:alice", &b) == 0);
	CHECK("get what was put", holds("u:alice", "a@example.org"));
	body("b@example.org");
	CHECK("replace", store_put(s, "u:alice", &b) == 0 && holds("u:alice", "b@example.org"));
	CHECK("sync", store_sync(s) == 0);
	CHECK("delete", store_del(s, "u:alice") == 0 && store_get(s, "u:alice", &b) == 1);
	CHECK("delete absent", store_del(s, "u:alice") == 1);
	proto_begin_body(&b);
	b.overflow = true;
	CHECK("overflowed body refused", store_put(s, "u:x", &b) < 0 && store_get(s, "u:x", &b) == 1);
	proto_begin_body(&b);
	proto_put_bytes(&b, TAG_DETAIL, NULL, 0);
	memset(b.data, 0xab, 60000);
	b.len = 60000;
	CHECK("large record round-trips", store_put(s, "m:big", &b) == 0 &&
	      store_get(s, "m:big", &b) == 0 && b.len == 60000 && b.data[59999] == 0xab);
	store_unlock(s);
}

/* Walk every key under prefix; count them, and fail on a repeat. */
static int walk(const char *prefix, bool *repeat)
{
	char seen[64][STORE_KEY_MAX], key[STORE_KEY_MAX], after[STORE_KEY_MAX] = "";
	int n = 0, rc;

	*repeat = false;
	while ((rc = store_next(s, prefix, after, key, sizeof key)) == 0 && n < 64) {
		if (strncmp(key, prefix, strlen(prefix)) != 0)
			return -1;
		for (int i = 0; i < n; i++)
			*repeat |= strcmp(seen[i], key) == 0;
		snprintf(seen[n++], STORE_KEY_MAX, "%s", key);
		snprintf(after, sizeof after, "%s", key);
	}
	return rc < 0 ? -1 : n;
}

static void walks(void)
{
	char key[STORE_KEY_MAX], name[32];
	bool repeat;

	store_lock(s);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof name, "u:user%02d", i);
		body("x@example.org");
		store_put(s, name, &b);
	}
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof name, "o:%d", i);
		store_put(s, name, &b);
	}
	CHECK("walk finds every user once", walk("u:", &repeat) == 40 && !repeat);
	CHECK("walk of another prefix", walk("o:", &repeat) == 7 && !repeat);
	CHECK("walk of an empty prefix", walk("z:", &repeat) == 0);
	CHECK("walk after a vanished key is an error",
	      store_next(s, "u:", "u:gone", key, sizeof key) < 0);
	CHECK("key too long for the buffer is an error",
	      store_next(s, "u:", NULL, key, 4) < 0);
	store_unlock(s);
}

static void reopen(void)
{
	char err[256] = "";
	struct store *second;

	store_lock(s);
	body("kept@example.org");
	store_put(s, "u:kept", &b);
	store_sync(s);
	store_unlock(s);
	CHECK("a second opener is refused while the database is open",
	      store_open(&second, db, err, sizeof err) < 0 && second == NULL && err[0]);
	store_close(s);
	CHECK("reopen", store_open(&s, db, err, sizeof err) == 0);
	if (!s)
		return;
	store_lock(s);
	CHECK("record survives a reopen", holds("u:kept", "kept@example.org"));
	store_unlock(s);
}

static void bad_files(void)
{
	char err[256] = "", path[256];
	struct store *other;
	int fd;

	snprintf(path, sizeof path, "%s/missing/portal.db", dir);
	CHECK("open in a missing directory fails with the path",
	      store_open(&other, path, err, sizeof err) < 0 && strstr(err, path));
	snprintf(path, sizeof path, "%s/junk.db", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (write(fd, "this is not a database, not at all; just text.\n", 47) != 47)
		return;
	close(fd);
	err[0] = '\0';
	CHECK("a file that is not GDBM is refused, not overwritten",
	      store_open(&other, path, err, sizeof err) < 0 && err[0]);
	unlink(path);
}

static bool group_start(void)
{
	char err[256] = "";

	if (!scratch_make(dir, sizeof dir, "unit_store"))
		return false;
	snprintf(db, sizeof db, "%s/portal.db", dir);
	if (store_open(&s, db, err, sizeof err) < 0)
		return fprintf(stderr, "store_open: %s\n", err), false;
	return true;
}

static void group_end(void)
{
	if (s)
		store_close(s);
	s = NULL;
	scratch_remove(dir);
}

int main(void)
{
	log_open(true);
	run_group("basics", group_start, basics, group_end);
	run_group("walks", group_start, walks, group_end);
	run_group("reopen", group_start, reopen, group_end);
	run_group("bad files", group_start, bad_files, group_end);
	return check_done();
}
