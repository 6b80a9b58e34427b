# pam_portal - plain Makefile.  `make help` lists the targets.

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
SAN      ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
# The libraries that ship a .pc, each with the Debian package that ships it
# (libesmtp's .pc requires openssl's).  GDBM and zxcvbn have none: -lgdbm,
# gdbm.h; -lzxcvbn, zxcvbn.h.
# libpq: the PostgreSQL backend (helper/pg.c), in portald and portalctl.
PKG_DEBS := pam:libpam0g-dev libsodium:libsodium-dev libesmtp-1.0:libesmtp-dev \
            openssl:libssl-dev pwquality:libpwquality-dev libutf8proc:libutf8proc-dev \
            libpq:libpq-dev ldap:libldap-dev
PKGS     := $(foreach p,$(PKG_DEBS),$(firstword $(subst :, ,$(p))))

# The flags are asked of pkg-config once, when make reads this file, not
# in every command (hundreds of times a build).  So the targets that
# install the libraries first (demo, check, soak, bench, fuzz, deb-test)
# build in a make of their own started after `deps`, which reads them
# again: the make that ran `deps` read them before the libraries were
# there, empty on a fresh machine.  Every build also checks that what it needs
# is there before it compiles anything (`libraries`, below), and every
# object and program depends on a file holding the flags it was made with,
# so that one made with other flags is made again.
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wformat=2 -Wshadow \
            -fstack-protector-strong -D_FORTIFY_SOURCE=2 $(PKG_CFLAGS)
LDFLAGS  += -Wl,-z,relro,-z,now -Wl,--as-needed
ifneq ($(SAN),)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS   := $(filter-out -D_FORTIFY_SOURCE=2,$(CFLAGS))
LDFLAGS  += -fsanitize=address,undefined
endif

LIBS_PAM     := $(shell $(PKG_CONFIG) --libs pam 2>/dev/null)
LIBS_SODIUM  := $(shell $(PKG_CONFIG) --libs libsodium 2>/dev/null)
LIBS_ESMTP   := $(shell $(PKG_CONFIG) --libs libesmtp-1.0 openssl 2>/dev/null)
LIBS_PWQ     := $(shell $(PKG_CONFIG) --libs pwquality 2>/dev/null)
LIBS_UTF8    := $(shell $(PKG_CONFIG) --libs libutf8proc 2>/dev/null)
LIBS_GDBM    := -lgdbm
LIBS_ZXCVBN  := -lzxcvbn
# What the password policy (helper/policy.c, unicode.c) links.
LIBS_POLICY  := $(LIBS_PWQ) $(LIBS_UTF8) $(LIBS_ZXCVBN)
LIBS_PQ      := $(shell $(PKG_CONFIG) --libs libpq 2>/dev/null)
LIBS_LDAP    := $(shell $(PKG_CONFIG) --libs ldap 2>/dev/null)

# One folder a program, and common/ for what the module shares with the
# other two.  Each folder's code is compiled with the include paths of its
# INCLUDES_ line and no other (its own headers come first, as "..." finds
# them): the module and common/ reach common/ alone, never a header of
# portald's; portalctl also compiles portald's configuration parser and
# the checks that parser makes (CTL_FROM_HELPER), as OpenSMTPD's smtpctl
# compiles smtpd's parser.  tests/test_layout.py holds the code to this.
INCLUDES_common     := -Icommon
INCLUDES_pam_portal := -Icommon
INCLUDES_helper     := -Icommon
INCLUDES_portalctl  := -Icommon -Ihelper
INCLUDES_gen        := -Icommon
INCLUDES_tests      := -Icommon -Ihelper -Iportalctl
INCLUDES_fuzz       := -Icommon -Ihelper
INCLUDES_bench      := -Icommon
INCLUDE_FOLDERS     := common pam_portal helper portalctl gen tests fuzz bench
# The include paths of a source file, by its top folder ($(BUILD)/gen for
# generated ones).
includes = $(INCLUDES_$(firstword $(subst /, ,$(patsubst $(BUILD)/%,%,$(1)))))

# The translations: po/LL.po made into C tables at build time (catalog.h).
PO          := $(wildcard po/*.po)
CATALOG     := $(BUILD)/gen/catalog.c
COMMON_SRC  := common/proto.c common/i18n.c $(CATALOG)
MODULE_SRC  := $(wildcard pam_portal/*.c) $(COMMON_SRC) common/client.c
PORTALD_SRC := $(wildcard helper/*.c) $(COMMON_SRC)
# portald's process (start, privileges, socket, event loop, workers), which
# the unit tests, linking the rest of portald, do without.
PROCESS_SRC := helper/portald.c helper/privileges.c helper/listener.c helper/loop.c \
               helper/conn.c helper/workers.c
# `db init` reaches PostgreSQL as portald does: the connection (pg.c), the
# schema (schema.c), the password file (secretfile.c).
CTL_FROM_HELPER := helper/config.c helper/config_ldap.c helper/valid.c helper/utf8.c helper/pg.c helper/schema.c \
                   helper/secretfile.c
CTL_SRC     := $(wildcard portalctl/*.c) $(CTL_FROM_HELPER) common/client.c $(COMMON_SRC)

OBJ   := $(BUILD)/obj
PIC   := $(BUILD)/pic
# The module's side of the protocol: its messages are small (the longest,
# a password change, is under 3 KiB), so its buffers are too.  Big ones
# would cost every sign-in page faults and an munmap, which on a
# multi-processor machine is an inter-processor interrupt.
MODULE_DEFS := -DPROTO_MAX_BODY=4096 -DPROTO_MAX_FIELDS=64
# Every sign-in loads the module afresh: packed relative relocations
# (DT_RELR) leave the loader far less to read and apply.
MODULE_LDFLAGS := -Wl,-z,pack-relative-relocs
# Objects of generated sources ($(BUILD)/gen) go to $(OBJ)/gen, $(PIC)/gen.
obj    = $(patsubst %.c,$(OBJ)/%.o,$(patsubst $(BUILD)/%,%,$(1)))
pic    = $(patsubst %.c,$(PIC)/%.o,$(patsubst $(BUILD)/%,%,$(1)))

PROGRAMS := $(BUILD)/pam_portal.so $(BUILD)/portald $(BUILD)/portalctl

.PHONY: all check demo bench install uninstall deb clean help deps test-programs libraries
all: $(PROGRAMS)

# ---- what the build needs, and the flags it was made with ------------------
# Before anything is compiled: the compiler, python3 (the catalog),
# pkg-config and each library, or the Debian packages that are missing and
# how to get them, instead of a screen of undefined references.
libraries:
	@missing=; \
	if command -v $(firstword $(CC)) >/dev/null; then \
		printf '#include <gdbm.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 || \
			missing=" libgdbm-dev"; \
		printf '#include <zxcvbn.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 || \
			missing="$$missing libzxcvbn-dev"; \
	else missing=" build-essential libgdbm-dev libzxcvbn-dev"; fi; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v $(PKG_CONFIG) >/dev/null || missing="$$missing pkg-config"; \
	for pd in $(PKG_DEBS); do \
		$(PKG_CONFIG) --exists $${pd%%:*} 2>/dev/null || missing="$$missing $${pd#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make: cannot build: missing Debian packages:$$missing" >&2; \
		echo "make: \`make deps' (as root) installs them, with what the tests need;" \
			"or: apt-get install$$missing" >&2; \
		exit 1; \
	fi

# $(BUILD)/cflags holds what objects are compiled with, $(BUILD)/ldflags
# what programs are linked with; each is rewritten only when that changes,
# which makes what depends on it again.
COMPILE_FLAGS = $(CC) $(CFLAGS) $(MODULE_DEFS) $(FUZZ_CC) $(FUZZ_CFLAGS) \
                $(foreach f,$(INCLUDE_FOLDERS),$(f): $(INCLUDES_$(f)))
LINK_FLAGS    = $(LDFLAGS) $(MODULE_LDFLAGS) $(LIBS_PAM) $(LIBS_SODIUM) $(LIBS_ESMTP) \
                $(LIBS_POLICY) $(LIBS_GDBM) $(LIBS_PQ) $(LIBS_LDAP)
define write-if-changed
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(subst ','\'',$(strip $(1)))' >$@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi
endef
$(BUILD)/cflags: libraries
	$(call write-if-changed,$(COMPILE_FLAGS))
$(BUILD)/ldflags: libraries
	$(call write-if-changed,$(LINK_FLAGS))

# Linked from the objects of their prerequisites ($(LINK_OBJS)), with the
# flags of $(BUILD)/ldflags.
LINK_OBJS = $(filter %.o,$^)

$(OBJ)/%.o: %.c $(BUILD)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call includes,$<) -fPIE -MMD -MP -c $< -o $@

$(PIC)/%.o: %.c $(BUILD)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call includes,$<) $(MODULE_DEFS) -fPIC -MMD -MP -c $< -o $@

$(OBJ)/gen/%.o: $(BUILD)/gen/%.c $(BUILD)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call includes,$<) -fPIE -MMD -MP -c $< -o $@

$(PIC)/gen/%.o: $(BUILD)/gen/%.c $(BUILD)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call includes,$<) $(MODULE_DEFS) -fPIC -MMD -MP -c $< -o $@

$(CATALOG): $(PO) tools/po2c.py | libraries
	@mkdir -p $(dir $@)
	python3 tools/po2c.py -o $@ $(PO)

$(BUILD)/pam_portal.so: $(call pic,$(MODULE_SRC)) $(BUILD)/ldflags
	$(CC) -shared $(LDFLAGS) $(MODULE_LDFLAGS) -Wl,--version-script=pam_portal/pam_portal.map \
		-o $@ $(LINK_OBJS) $(LIBS_PAM)

$(BUILD)/portald: $(call obj,$(PORTALD_SRC)) $(BUILD)/ldflags
	$(CC) -pie $(LDFLAGS) -o $@ $(LINK_OBJS) $(LIBS_SODIUM) $(LIBS_ESMTP) $(LIBS_POLICY) \
		$(LIBS_GDBM) $(LIBS_PQ) $(LIBS_LDAP) -lpthread

$(BUILD)/portalctl: $(call obj,$(CTL_SRC)) $(BUILD)/ldflags
	$(CC) -pie $(LDFLAGS) -o $@ $(LINK_OBJS) $(LIBS_SODIUM) $(LIBS_PQ) -lpthread

# ---- tests ---------------------------------------------------------------
UNIT_TESTS := $(patsubst tests/unit_%.c,$(BUILD)/tests/unit_%,$(wildcard tests/unit_*.c))
TEST_TOOLS := $(BUILD)/tests/pamconv $(BUILD)/tests/locker

# Unit tests link the unit under test and whatever it needs from portald.
UNIT_DEPS := $(filter-out $(PROCESS_SRC),$(PORTALD_SRC)) common/client.c portalctl/csv.c
$(BUILD)/tests/unit_%: $(OBJ)/tests/unit_%.o $(call obj,$(UNIT_DEPS)) $(BUILD)/ldflags
	@mkdir -p $(dir $@)
	$(CC) -pie $(LDFLAGS) -o $@ $(LINK_OBJS) $(LIBS_SODIUM) $(LIBS_ESMTP) $(LIBS_POLICY) \
		$(LIBS_GDBM) $(LIBS_PQ) $(LIBS_LDAP) -lpthread
# A name looked up as portald does, any bytes (tests/test_ldap.py).
DIR_TOOL := $(BUILD)/tests/dirlookup
$(DIR_TOOL): $(OBJ)/tests/dirlookup.o $(call obj,$(UNIT_DEPS)) $(BUILD)/ldflags
	@mkdir -p $(dir $@)
	$(CC) -pie $(LDFLAGS) -o $@ $(LINK_OBJS) $(LIBS_SODIUM) $(LIBS_ESMTP) $(LIBS_POLICY) \
		$(LIBS_GDBM) $(LIBS_PQ) $(LIBS_LDAP) -lpthread
# The module's message table is not part of portald.
$(BUILD)/tests/unit_text: $(OBJ)/pam_portal/text.o

# PAM applications of the tests: pamconv drives the module, locker checks
# its own user's password as a screen locker does (tests/test_e2e_locker.py).
# Under the sanitizers they are linked with libcrypt: ASan's interceptor of
# crypt() finds the real one only in a library there at start, and
# pam_unix, which loads libcrypt later, would call through a null pointer
# when it checks a password (tests/test_fail_delay.py).
CRYPT_ALWAYS := -Wl,--no-as-needed -lcrypt -Wl,--as-needed
SAN_CRYPT := $(if $(SAN),$(CRYPT_ALWAYS))
$(TEST_TOOLS): $(BUILD)/tests/%: $(OBJ)/tests/%.o $(BUILD)/ldflags
	@mkdir -p $(dir $@)
	$(CC) -pie $(LDFLAGS) -o $@ $(LINK_OBJS) $(LIBS_PAM) $(SAN_CRYPT)

# A passwd source for NSS that folds case, as sssd can: the module must ask
# portald about the account NSS resolves (tests/test_canonical.py).
NSS_TEST := $(BUILD)/tests/libnss_pptestfold.so.2
$(NSS_TEST): $(PIC)/tests/nss_pptestfold.o $(BUILD)/ldflags
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $(LINK_OBJS)

test-programs: $(PROGRAMS) $(UNIT_TESTS) $(TEST_TOOLS) $(NSS_TEST) $(DIR_TOOL)

# ---- fuzzing: clang's libFuzzer with ASan and UBSan, one program a target --
# fuzz/fuzz_T.c exercises the units named by fuzz_src_T; its seed corpus is
# fuzz/corpus/T.  `make fuzz` runs each FUZZ_TIME seconds; make check runs
# each a few seconds (tests/run.sh).  What a run finds goes to fuzz-out/.
FUZZ_TARGETS := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_TIME    ?= 60
FUZZ_CC      ?= clang
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror $(INCLUDES_fuzz) $(PKG_CFLAGS) \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZERS      := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
fuzz_src_proto    := common/proto.c
fuzz_src_config   := helper/config.c helper/config_ldap.c helper/valid.c helper/utf8.c common/i18n.c $(CATALOG)
fuzz_src_valid    := helper/valid.c helper/utf8.c
fuzz_src_mailtext := helper/mailtext.c helper/valid.c helper/utf8.c common/i18n.c $(CATALOG)

.PHONY: fuzz fuzzers
.SECONDEXPANSION:
$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $$(fuzz_src_$$*) $$(wildcard common/*.h helper/*.h) \
		$(BUILD)/cflags $(BUILD)/ldflags
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(fuzz_src_$*) $(LIBS_SODIUM)

fuzzers: $(FUZZERS)

fuzz: deps
	@$(MAKE) --no-print-directory fuzzers
	@bash fuzz/run.sh $(FUZZ_DIR) $(FUZZ_TIME) fuzz-out

deps:
	@bash tests/install-deps.sh

check: deps
	@$(MAKE) --no-print-directory test-programs
	@$(MAKE) --no-print-directory BUILD=build/san SAN=1 test-programs
	@$(MAKE) --no-print-directory fuzzers
	@bash tests/run.sh

# A few minutes of mixed load on the real helper; figures on stdout.
SOAK_TIME ?= 180
.PHONY: soak
soak: deps
	@$(MAKE) --no-print-directory test-programs
	@BUILD=$(BUILD) SOAK_TIME=$(SOAK_TIME) /usr/bin/python3 tests/soak.py

# Figures of speed (bench/bench.py says what and how); a few minutes, as
# root: it may install the comparison modules and makes a throwaway user.
BENCH_PROGRAMS := $(BUILD)/bench/pambench $(BUILD)/bench/helperbench $(BUILD)/bench/sockfloor \
                  $(BUILD)/bench/pam_nothing.so
$(BUILD)/bench/sockfloor: $(OBJ)/bench/sockfloor.o $(BUILD)/ldflags
	@mkdir -p $(dir $@)
	$(CC) -pie $(LDFLAGS) -o $@ $(LINK_OBJS) -lpthread
$(BUILD)/bench/pam_nothing.so: $(PIC)/bench/pam_nothing.o $(BUILD)/ldflags
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $(LINK_OBJS) $(LIBS_PAM)
$(BUILD)/bench/pambench: $(OBJ)/bench/pambench.o $(BUILD)/ldflags
	@mkdir -p $(dir $@)
	$(CC) -pie $(LDFLAGS) -o $@ $(LINK_OBJS) $(LIBS_PAM)
$(BUILD)/bench/helperbench: $(call obj,bench/helperbench.c common/client.c common/proto.c) \
		$(BUILD)/ldflags
	@mkdir -p $(dir $@)
	$(CC) -pie $(LDFLAGS) -o $@ $(LINK_OBJS) $(LIBS_SODIUM) -lpthread

bench: deps
	@$(MAKE) --no-print-directory test-programs $(BENCH_PROGRAMS)
	@BUILD=$(BUILD) /usr/bin/python3 bench/bench.py

demo: deps
	@$(MAKE) --no-print-directory all $(TEST_TOOLS)
	@bash tests/demo.sh

# ---- translations -----------------------------------------------------------
# Messages are written in English in the code, I18N("...") (and MSG/PROMPT
# in pam_portal/text.c); po/pam_portal.pot lists them all.  `make pot`
# makes it again from the code and brings every po/LL.po up to date with
# it (msgmerge: new messages untranslated, changed ones fuzzy) for a
# translator to finish; tests/test_i18n_po.py fails until they are.
POT_SRC := $(sort $(wildcard pam_portal/*.c common/*.c helper/*.c portalctl/*.c))
$(BUILD)/gen/pam_portal.pot: $(POT_SRC)
	@mkdir -p $(dir $@)
	xgettext --from-code=UTF-8 --language=C --keyword= --keyword=I18N \
		--keyword=MSG:1 --keyword=PROMPT:1 --add-comments=TRANSLATORS: \
		--package-name=pam_portal --package-version=$(VERSION) \
		--msgid-bugs-address=pam-portal@example.org -o $@ $(POT_SRC)

VERSION := $(shell sed -n 's/^\#define PORTAL_VERSION "\(.*\)"/\1/p' common/version.h)

.PHONY: pot
pot: $(BUILD)/gen/pam_portal.pot
	cp $< po/pam_portal.pot
	for po in $(PO); do msgmerge --quiet --update --backup=none $$po po/pam_portal.pot; done

# ---- install ----------------------------------------------------------------
# Where things go: the PAM module where libpam looks for modules (pam.pc's
# securedir when it names one; Debian's names none, so its libdir/security,
# /lib/x86_64-linux-gnu/security on amd64), the unit and the sysusers.d
# file where systemd's pkg-config file says.  Each can be set on the command
# line (debian/rules does).  Nothing here creates the account or starts
# anything: README.md, "Install for real", says what to run after.
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/pam_portal
CONFDIR     ?= /etc/portald
pkgvar       = $(shell $(PKG_CONFIG) --variable=$(1) $(2) 2>/dev/null)
PAMDIR      ?= $(or $(call pkgvar,securedir,pam),$(call pkgvar,libdir,pam)/security)
UNITDIR     ?= $(or $(call pkgvar,systemdsystemunitdir,systemd),/lib/systemd/system)
SYSUSERSDIR ?= $(or $(call pkgvar,sysusersdir,systemd),/usr/lib/sysusers.d)
MAN5 := $(wildcard man/*.5)
MAN8 := $(wildcard man/*.8)
PAM_SAMPLES := $(wildcard config/pam.d-*)
# The documents beside the manual pages; README's links to docs/ hold there.
DOCS        := README.md SECURITY.md
DOCS_MORE   := $(wildcard docs/*.md)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PAMDIR) $(DESTDIR)$(CONFDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)/docs
	install -m 0644 $(BUILD)/pam_portal.so $(DESTDIR)$(PAMDIR)/pam_portal.so
	install -m 0755 $(BUILD)/portald $(BUILD)/portalctl $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	sed 's#/usr/sbin/portald#$(SBINDIR)/portald#' config/portald.service \
		>$(DESTDIR)$(UNITDIR)/portald.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/portald.service
	install -m 0644 config/portald.sysusers $(DESTDIR)$(SYSUSERSDIR)/portald.conf
	install -m 0644 config/portald.conf $(PAM_SAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(DOCS_MORE) $(DESTDIR)$(DOCDIR)/docs/
	@# An existing configuration is the administrator's: never overwritten.
	test -e $(DESTDIR)$(CONFDIR)/portald.conf || \
		install -m 0644 config/portald.conf $(DESTDIR)$(CONFDIR)/portald.conf

# Removes what install put in place; the configuration only while it is
# still the sample (an edited one is the administrator's, and says so).
uninstall:
	rm -f $(DESTDIR)$(PAMDIR)/pam_portal.so $(DESTDIR)$(SBINDIR)/portald \
		$(DESTDIR)$(SBINDIR)/portalctl \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) \
		$(DESTDIR)$(UNITDIR)/portald.service $(DESTDIR)$(SYSUSERSDIR)/portald.conf \
		$(addprefix $(DESTDIR)$(DOCDIR)/examples/,portald.conf $(notdir $(PAM_SAMPLES))) \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(DOCS)) \
		$(addprefix $(DESTDIR)$(DOCDIR)/docs/,$(notdir $(DOCS_MORE)))
	if cmp -s config/portald.conf $(DESTDIR)$(CONFDIR)/portald.conf; then \
		rm -f $(DESTDIR)$(CONFDIR)/portald.conf; \
	elif test -e $(DESTDIR)$(CONFDIR)/portald.conf; then \
		echo "uninstall: keeping $(DESTDIR)$(CONFDIR)/portald.conf: it was edited"; \
	fi
	@# Our folders, when nothing else is left in them.
	rmdir --ignore-fail-on-non-empty $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)/docs \
		$(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(CONFDIR) 2>/dev/null || true

# ---- Debian package --------------------------------------------------------------
# dpkg-buildpackage -us -uc -b from debian/, in a copy of the tree under
# build/deb so that nothing is written beside the checkout; the .deb, its
# .changes and the lintian report end up in build/deb/.
deb:
	@bash tools/make-deb.sh $(BUILD)/deb

# The package in a clean Debian root (tools/minbase.sh, kept in
# $(BUILD)/minbase.tar), then a member's whole sign-in through it, by the
# common-* files pam-auth-update writes: tests/check_deb_root.py.
.PHONY: deb-test
deb-test: deb
	@$(MAKE) --no-print-directory $(BUILD)/tests/pamconv
	@bash tests/install-deps.sh debootstrap
	@BUILD=$(BUILD) python3 tests/check_deb_root.py $(BUILD)/deb

# make demo, then make check, as a newcomer types them in a clean Debian 12
# root (debootstrap minbase, cached in $(BUILD)/minbase.tar) with a clone of
# HEAD: root and the Debian mirror needed.  Not part of make check.
.PHONY: fresh-test
fresh-test:
	@BUILD=$(BUILD) bash tests/fresh-test.sh

clean:
	rm -rf build

help:
	@echo "make            build $(PROGRAMS)"
	@echo "make deps       install the Debian packages building and testing need (as root)"
	@echo "make demo       install what is missing, build, run the whole flow locally"
	@echo "make check      install what is missing, build, run every test (also under ASan/UBSan)"
	@echo "make fuzz       run each libFuzzer target FUZZ_TIME seconds (default 60); finds go to fuzz-out/"
	@echo "make soak       a bounded mixed load on the real helper (SOAK_TIME=180 seconds): lost, duplicated, memory"
	@echo "make bench      speed figures: sign-ins, the helper under load, a million users, mail (root)"
	@echo "make install    install (DESTDIR, PREFIX=$(PREFIX); PAM module into PAMDIR=$(PAMDIR),"
	@echo "                systemd unit into UNITDIR=$(UNITDIR), samples into $(CONFDIR))"
	@echo "make uninstall  remove what make install put in place (an edited portald.conf stays)"
	@echo "make deb        build a Debian package (libpam-portal) into build/deb/, with its lintian report"
	@echo "make deb-test   make deb, install it in a clean Debian root (debootstrap) and sign a member in there"
	@echo "make fresh-test make demo then make check in a clean Debian 12 root, from a clone (root; long)"
	@echo "make pot        list the messages of the code in po/pam_portal.pot, update po/*.po (msgmerge)"
	@echo "make clean      remove build/"
	@echo
	@echo "The code: pam_portal/ the PAM module, helper/ portald, portalctl/ portalctl,"
	@echo "common/ what the module shares with them (protocol, client, languages);"
	@echo "each compiled with its INCLUDES_ paths only (README.md, \"Layout\")."

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
