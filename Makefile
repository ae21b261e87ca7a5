# Sealbox — a plain Makefile. `make run` and `make check` are all a user needs
# (see README.md); both install what is missing first (`make deps`).

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
CFLAGS ?= -O2 -g
FUZZ_SECONDS ?= 20
# Compile jobs for `check`'s builds (the tests themselves pace their own).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
VERSION := 0.1.0

# Exactly the Debian packages that the build, the tests and `make run` use.
DEB_PKGS := make gcc clang libclang-rt-14-dev pkg-config \
	libssl-dev openssl libp11-dev softhsm2 opensc \
	libyaml-dev libjansson-dev libgfshare-dev liblmdb-dev \
	libevent-dev libseccomp-dev curl jq lmdb-utils \
	libqpdf-dev qpdf libpng-dev zlib1g-dev poppler-utils libnss3-tools \
	liboath-dev libargon2-dev expect valgrind util-linux \
	debootstrap debian-archive-keyring squashfs-tools qemu-system-x86 e2fsprogs \
	socat iproute2 nftables procps

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Werror
HARDEN_CFLAGS := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
# libp11.h does not build with OPENSSL_NO_DEPRECATED; pin the 3.0 API instead.
DEFS := -D_GNU_SOURCE -DOPENSSL_API_COMPAT=30000 -DSB_VERSION=\"$(VERSION)\"
ALL_CFLAGS := -std=c11 $(WARN) $(HARDEN_CFLAGS) $(DEFS) -I. $(CFLAGS)
ALL_LDFLAGS := $(HARDEN_LDFLAGS) $(LDFLAGS)
LIBS := -lm -levent -levent_openssl -levent_pthreads -lseccomp -llmdb -lp11 -lssl -lcrypto -lyaml -ljansson -lgfshare -lqpdf -lpng -lz -loath -largon2 -lpthread -ldl

LIB_SRC := $(wildcard lib/*.c)
HSM_SRC := $(wildcard hsm/*.c)
# The daemon's parts as a library; each program's main() lives in a file of
# its own name (daemon/seald.c, daemon/client/sealctl.c), kept out of it.
DAEMON_SRC := $(filter-out daemon/seald.c daemon/client/%,$(shell find daemon -name '*.c' 2>/dev/null))
PROV_SRC := $(wildcard provisioning/*.c)
CLIENT_SRC := $(filter-out daemon/client/sealctl.c,$(wildcard daemon/client/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_A := $(BUILD)/libsb.a
HSM_A := $(BUILD)/libsbhsm.a
DAEMON_A := $(BUILD)/libsbd.a
CLIENT_A := $(BUILD)/libsbc.a
PROGS := $(BUILD)/sealprov $(BUILD)/seald $(BUILD)/sealadm $(BUILD)/sealctl
UNITS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
BENCHES := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

.PHONY: all deps check run bench install clean unit-tests unit-bins asan valgrind \
	fuzz fuzzers fuzz-short integration layering image image-test
.DELETE_ON_ERROR:
# Keep object files that pattern chains would otherwise delete as intermediates.
.SECONDARY:

all: $(PROGS) $(UNITS) $(TOOLS) $(BENCHES)

# Installs only what is missing; as root directly, otherwise through sudo.
deps: PKGS = $(DEB_PKGS)
deps:
	@missing=""; for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB_A): $(call obj,$(LIB_SRC))
	@mkdir -p $(dir $@); rm -f $@
	ar rcs $@ $^

$(HSM_A): $(call obj,$(HSM_SRC))
	@mkdir -p $(dir $@); rm -f $@
	ar rcs $@ $^

# An archive may be empty while a layer has no code yet.
$(DAEMON_A): $(call obj,$(DAEMON_SRC))
	@mkdir -p $(dir $@); rm -f $@
	ar rcs $@ $^

$(CLIENT_A): $(call obj,$(CLIENT_SRC))
	@mkdir -p $(dir $@); rm -f $@
	ar rcs $@ $^

$(BUILD)/sealprov: $(call obj,$(PROV_SRC)) $(CLIENT_A) $(DAEMON_A) $(HSM_A) $(LIB_A)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/seald: $(call obj,daemon/seald.c) $(DAEMON_A) $(HSM_A) $(LIB_A)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/sealadm: $(call obj,appliance/sealadm.c appliance/menu.c appliance/console_backup.c appliance/console_network.c appliance/console_totp.c appliance/console_ledger.c appliance/console_tls.c \
	appliance/console_reshare.c) $(CLIENT_A) $(DAEMON_A) $(HSM_A) $(LIB_A)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/sealctl: $(call obj,daemon/client/sealctl.c) $(CLIENT_A) $(DAEMON_A) $(HSM_A) $(LIB_A)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(CLIENT_A) $(DAEMON_A) $(HSM_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(CLIENT_A) $(DAEMON_A) $(HSM_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(CLIENT_A) $(DAEMON_A) $(HSM_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- tests ---------------------------------------------------------------

# Everything, in the order a failure is cheapest to read; the appliance image
# is built and booted beside the suites that use one core (tests/run.sh).
# The image needs root, as deps does (directly, or through sudo).
check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@$(MAKE) --no-print-directory -j$(JOBS) asan
	@$(MAKE) --no-print-directory -j$(JOBS) fuzzers
	BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh all

unit-tests: all
	BUILD=$(BUILD) tests/run.sh unit

# The unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined" unit-bins

unit-bins: $(UNITS) $(TOOLS)

valgrind: all
	BUILD=$(BUILD) tests/run.sh valgrind

integration: all
	BUILD=$(BUILD) tests/run.sh integration

layering:
	tests/layering.sh

# libFuzzer harnesses, built with clang and the sanitizers. The project's own
# sources are compiled again for them under $(BUILD)/fuzzobj.
FUZZ_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
fuzzers:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzzobj CC=clang \
		CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link" \
		$(BUILD)/fuzzobj/libsb.a $(BUILD)/fuzzobj/libsbhsm.a $(BUILD)/fuzzobj/libsbd.a \
		$(BUILD)/fuzzobj/libsbc.a
	@mkdir -p $(BUILD)/fuzz
	@for src in $(FUZZ_SRC); do \
		out=$(BUILD)/fuzz/$$(basename $$src .c); \
		if [ ! -e $$out ] || [ $$src -nt $$out ] || [ $(BUILD)/fuzzobj/libsb.a -nt $$out ] \
			|| [ $(BUILD)/fuzzobj/libsbhsm.a -nt $$out ] \
			|| [ $(BUILD)/fuzzobj/libsbd.a -nt $$out ] \
			|| [ $(BUILD)/fuzzobj/libsbc.a -nt $$out ]; then \
			echo "clang $$src"; \
			clang -std=c11 $(WARN) $(DEFS) -I. $(FUZZ_CFLAGS) -fsanitize=fuzzer \
				-o $$out $$src $(BUILD)/fuzzobj/libsbc.a $(BUILD)/fuzzobj/libsbd.a $(BUILD)/fuzzobj/libsbhsm.a \
				$(BUILD)/fuzzobj/libsb.a $(LIBS) \
				|| exit 1; \
		fi; \
	done

fuzz-short: fuzzers
	BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh fuzz

# Long fuzzing runs: `make fuzz FUZZ_SECONDS=3600`.
fuzz: FUZZ_SECONDS = 600
fuzz: fuzzers
	BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh fuzz

# ---- benchmarks ----------------------------------------------------------

bench: deps
	@$(MAKE) --no-print-directory all
	BUILD=$(BUILD) tests/bench/run.sh

# ---- development appliance ----------------------------------------------

run: deps
	@$(MAKE) --no-print-directory all
	BUILD=$(BUILD) provisioning/devrun.sh

# ---- install -------------------------------------------------------------

install: $(PROGS)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BUILD)/seald $(BUILD)/sealadm $(BUILD)/sealprov $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(BUILD)/sealctl $(DESTDIR)$(PREFIX)/bin/
	for m in docs/man/*.1; do [ -e "$$m" ] && install -m 0644 "$$m" $(DESTDIR)$(PREFIX)/share/man/man1/; done; true
	install -m 0644 docs/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/

clean:
	rm -rf $(BUILD)

# ---- appliance image -----------------------------------------------------

# The read-only system image (docs/appliance.md): $(BUILD)/image/vmlinuz,
# initrd.img, root.squashfs, data.img, manifest.txt. As root.
image: deps $(PROGS)
	BUILD=$(BUILD) rootfs/build.sh

# Boots the image in QEMU (TCG) and drives it from the serial console and
# over the API: firstboot.sh from an empty data disk (first boot at the
# console, seal made and granted at the console, power-off from the menu,
# reboot, unseal, seal with sealctl, ledger check), then boot.sh with a data
# disk provisioned on the host. About 5 minutes; `check` runs it too.
image-test: image $(BUILD)/tools/mkstamp $(BUILD)/tools/pdfsign
	BUILD=$(BUILD) tests/image/firstboot.sh
	BUILD=$(BUILD) tests/image/boot.sh
