/*
 * portalctl.c - the administrator's tool: reads the command line, picks the
 * language, and runs one command over one connection to portald.
 *
 * Exit status: 0 success, 1 failure, 2 bad usage (the contract).  Data goes
 * to stdout, everything else to stderr, so scripts can read the data.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ctl.h"
#include "version.h"

static const struct command {
	const char *group;      /* "user", or NULL for a one-word command */
	const char *name;
	int nargs;              /* exact count, or -1: the command checks */
	const char *usage;      /* CLI words stay English in both languages */
	int (*run)(struct ctl *c, int argc, char **argv);
} commands[] = {
	{ "user", "add", 2, "user add USER EMAIL", ctl_user_add },
	{ "user", "del", 1, "user del USER", ctl_user_del },
	{ "user", "show", 1, "user show USER", ctl_user_show },
	{ "user", "list", -1, "user list [--state pending|active|locked]", ctl_user_list },
	{ "user", "reset", 1, "user reset USER", ctl_user_reset },
	{ "user", "unlock", 1, "user unlock USER", ctl_user_unlock },
	{ NULL, "import", 1, "import FILE", ctl_import },
	{ NULL, "outbox", 0, "outbox", ctl_outbox },
	{ NULL, "status", 0, "status", ctl_status },
	{ "directory", "lookup", 1, "directory lookup USER", ctl_directory_lookup },
	{ "db", "schema", 0, "db schema", ctl_db_schema },
	{ "db", "init", 0, "db init", ctl_db_init },
};

static const struct i18n_text msg_help = I18N(
	"Usage: portalctl [-c FILE] COMMAND [ARGUMENTS]\n"
	"Manage the users of pam_portal through portald.\n"
	"\n"
	"Commands:\n"
	"  user add USER EMAIL        add a user, pending until they verify the address\n"
	"  user del USER              remove a user from the portal\n"
	"  user show USER             show what portald knows about a user\n"
	"  user list [--state STATE]  list users (STATE: pending, active, locked)\n"
	"  user reset USER            make a user verify their address and create a new\n"
	"                             password at their next sign-in\n"
	"  user unlock USER           lift a lock\n"
	"  import FILE                add users from CSV lines \"user,email\"\n"
	"                             (- reads standard input)\n"
	"  outbox                     show the queue of outgoing mail\n"
	"  status                     show the state of portald\n"
	"  directory lookup USER      show how portald looks a user name up in the\n"
	"                             directory: the filter, the entries, the addresses\n"
	"  db schema                  print the SQL of the PostgreSQL schema\n"
	"  db init                    make the schema in the configured PostgreSQL\n"
	"                             database, or upgrade it (store = postgresql)\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   configuration file (default %s)\n"
	"  -h, --help          show this help\n"
	"  -V, --version       show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 bad usage.\n");
static const struct i18n_text msg_no_command = I18N(
	"no command given");
static const struct i18n_text msg_unknown_command = I18N(
	"unknown command: %s%s%s");
static const struct i18n_text msg_arg_count = I18N(
	"wrong number of arguments; usage: portalctl %s");
static const struct i18n_text msg_write = I18N(
	"cannot write the output");

static bool is_group(const char *word)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].group && strcmp(word, commands[i].group) == 0)
			return true;
	return false;
}

/* The command named by the first words of args; *used says how many. */
static const struct command *find_command(int argc, char **argv, int *used)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		const struct command *k = &commands[i];

		if (!k->group && strcmp(argv[0], k->name) == 0) {
			*used = 1;
			return k;
		}
		if (k->group && argc >= 2 && strcmp(argv[0], k->group) == 0 &&
		    strcmp(argv[1], k->name) == 0) {
			*used = 2;
			return k;
		}
	}
	return NULL;
}

static int run(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *k;
	int opt, used;

	opterr = 0;   /* our own messages, in the right language */
	/* '+': options end at the command, whose own options are its business */
	while ((opt = getopt_long(argc, argv, "+:c:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			c->config_path = optarg;
			break;
		case 'h':
			ctl_say(c, stdout, &msg_help, PORTAL_DEFAULT_CONFIG);
			return CTL_OK;
		case 'V':
			printf("portalctl %s\n", PORTAL_VERSION);
			return CTL_OK;
		case ':':
			return ctl_usage(c, &i18n_missing_value, argv[optind - 1]);
		default:
			return ctl_usage(c, &i18n_unknown_option, argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return ctl_usage(c, &msg_no_command);
	k = find_command(argc, argv, &used);
	if (!k && is_group(argv[0]))
		return ctl_usage(c, &msg_unknown_command, argv[0], argc > 1 ? " " : "",
				 argc > 1 ? argv[1] : "");
	if (!k)
		return ctl_usage(c, &msg_unknown_command, argv[0], "", "");
	argc -= used;
	argv += used;
	if (k->nargs >= 0 && argc != k->nargs)
		return ctl_usage(c, &msg_arg_count, k->usage);
	return k->run(c, argc, argv);
}

int main(int argc, char **argv)
{
	static struct ctl c;   /* frames and parsed messages: too big for a stack */
	int rc;

	c.lang = lang_of_environment();
	c.config_path = PORTAL_DEFAULT_CONFIG;
	c.fd = -1;
	rc = run(&c, argc, argv);
	if (c.fd >= 0)
		close(c.fd);
	/* data that did not reach its reader is a failure a script must see */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_fail(&c, NULL, &msg_write);
		rc = CTL_FAIL;
	}
	return rc;
}
