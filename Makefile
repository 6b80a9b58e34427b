# pam_portal - plain Makefile.  `make help` lists the targets.

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
SAN      ?=

CC       ?= cc
PKGS     := pam libsodium libesmtp-1.0 pwquality
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wformat=2 -Wshadow \
            -fstack-protector-strong -D_FORTIFY_SOURCE=2 -Ihelper $(PKG_CFLAGS)
LDFLAGS  += -Wl,-z,relro,-z,now -Wl,--as-needed
ifneq ($(SAN),)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS   := $(filter-out -D_FORTIFY_SOURCE=2,$(CFLAGS))
LDFLAGS  += -fsanitize=address,undefined
endif

LIBS_PAM     := $(shell pkg-config --libs pam 2>/dev/null)
LIBS_SODIUM  := $(shell pkg-config --libs libsodium 2>/dev/null)
LIBS_ESMTP   := $(shell pkg-config --libs libesmtp-1.0 openssl 2>/dev/null)
LIBS_PWQ     := $(shell pkg-config --libs pwquality 2>/dev/null)
LIBS_GDBM    := -lgdbm

COMMON_SRC  := helper/proto.c helper/i18n.c
MODULE_SRC  := $(wildcard pam_portal/*.c) $(COMMON_SRC) helper/client.c
PORTALD_SRC := helper/portald.c helper/dispatch.c helper/store.c helper/keys.c \
               helper/user.c helper/code.c helper/policy.c helper/valid.c helper/outbox.c \
               helper/mail.c helper/mailtext.c helper/config.c helper/log.c helper/utf8.c \
               $(COMMON_SRC)
CTL_SRC     := helper/portalctl.c helper/ctl.c helper/ctl_user.c helper/ctl_import.c \
               helper/ctl_daemon.c helper/ctl_table.c helper/csv.c \
               helper/config.c helper/client.c helper/valid.c helper/utf8.c $(COMMON_SRC)

OBJ   := $(BUILD)/obj
PIC   := $(BUILD)/pic
obj    = $(patsubst %.c,$(OBJ)/%.o,$(1))
pic    = $(patsubst %.c,$(PIC)/%.o,$(1))

PROGRAMS := $(BUILD)/pam_portal.so $(BUILD)/portald $(BUILD)/portalctl

.PHONY: all check demo bench install uninstall clean help deps test-programs
all: $(PROGRAMS)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIE -MMD -MP -c $< -o $@

$(PIC)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -MMD -MP -c $< -o $@

$(BUILD)/pam_portal.so: $(call pic,$(MODULE_SRC))
	$(CC) -shared $(LDFLAGS) -Wl,--version-script=pam_portal/pam_portal.map -o $@ $^ \
		$(LIBS_PAM) $(LIBS_SODIUM)

$(BUILD)/portald: $(call obj,$(PORTALD_SRC))
	$(CC) -pie $(LDFLAGS) -o $@ $^ $(LIBS_SODIUM) $(LIBS_ESMTP) $(LIBS_PWQ) $(LIBS_GDBM) -lpthread

$(BUILD)/portalctl: $(call obj,$(CTL_SRC))
	$(CC) -pie $(LDFLAGS) -o $@ $^ $(LIBS_SODIUM)

# ---- tests ---------------------------------------------------------------
UNIT_TESTS := $(patsubst tests/unit_%.c,$(BUILD)/tests/unit_%,$(wildcard tests/unit_*.c))
TEST_TOOLS := $(BUILD)/tests/pamconv

# Unit tests link the unit under test and whatever it needs from portald.
UNIT_DEPS := $(filter-out helper/portald.c,$(PORTALD_SRC)) helper/client.c helper/csv.c
$(BUILD)/tests/unit_%: $(OBJ)/tests/unit_%.o $(call obj,$(UNIT_DEPS))
	@mkdir -p $(dir $@)
	$(CC) -pie $(LDFLAGS) -o $@ $^ $(LIBS_SODIUM) $(LIBS_ESMTP) $(LIBS_PWQ) $(LIBS_GDBM) -lpthread
# The module's message table is not part of portald.
$(BUILD)/tests/unit_text: $(OBJ)/pam_portal/text.o

$(BUILD)/tests/pamconv: $(OBJ)/tests/pamconv.o
	@mkdir -p $(dir $@)
	$(CC) -pie $(LDFLAGS) -o $@ $^ $(LIBS_PAM)

test-programs: $(PROGRAMS) $(UNIT_TESTS) $(TEST_TOOLS)

deps:
	@bash tests/install-deps.sh

check: deps
	@$(MAKE) --no-print-directory test-programs
	@$(MAKE) --no-print-directory BUILD=build/san SAN=1 test-programs
	@bash tests/run.sh

demo: deps all $(TEST_TOOLS)
	@bash tests/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PAMDIR) $(DESTDIR)/etc/portald \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 $(BUILD)/pam_portal.so $(DESTDIR)$(PAMDIR)/pam_portal.so
	install -m 0755 $(BUILD)/portald $(BUILD)/portalctl $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	test -e $(DESTDIR)/etc/portald/portald.conf || \
		install -m 0640 config/portald.conf $(DESTDIR)/etc/portald/portald.conf

PAMDIR ?= $(shell pkg-config --variable=securedir pam 2>/dev/null || echo /lib/security)

uninstall:
	rm -f $(DESTDIR)$(PAMDIR)/pam_portal.so $(DESTDIR)$(PREFIX)/sbin/portald \
		$(DESTDIR)$(PREFIX)/sbin/portalctl \
		$(DESTDIR)$(PREFIX)/share/man/man5/portald.conf.5 \
		$(addprefix $(DESTDIR)$(PREFIX)/share/man/man8/,pam_portal.8 portald.8 portalctl.8)

clean:
	rm -rf build

help:
	@echo "make            build $(PROGRAMS)"
	@echo "make demo       install what is missing, build, run the whole flow locally"
	@echo "make check      install what is missing, build, run every test (also under ASan/UBSan)"
	@echo "make install    install (DESTDIR, PREFIX; PAM module into PAMDIR=$(PAMDIR))"
	@echo "make uninstall  remove what make install put in place"
	@echo "make clean      remove build/"

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
