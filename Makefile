# nthpi: the n-th decimal digit of pi, as a FastCGI app behind nginx and a
# worker daemon. See README.md.

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
SHAREDIR ?= $(PREFIX)/share/nthpi
MANDIR   ?= $(PREFIX)/share/man
UNITDIR  ?= $(PREFIX)/lib/systemd/system
DESTDIR  ?=

CC       ?= cc
BUILD    ?= build
CFLAGS   ?= -O2 -g
# WERROR=1 makes every warning an error wherever $(WARN) goes: the programs,
# the unit tests, the ASan build of tests/run.sh (which sets CFLAGS, not
# WARN) and the fuzz targets. CI (.ci/run) sets it; a plain make does not,
# so that a compiler's new warning does not stop a developer's build.
WERROR   ?=
WARN      = -std=c11 -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
    $(if $(filter 1,$(WERROR)),-Werror)
PKGS      = sqlite3 fcgi mpfr gmp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lsqlite3 -lfcgi -lmpfr -lgmp)
ALL_CFLAGS = $(WARN) $(CFLAGS) -D_GNU_SOURCE -Icommon $(PKG_CFLAGS) -pthread
LDLIBS    = $(PKG_LIBS) -pthread -lm

COMMON_SRC = $(wildcard common/*.c)
CGI_SRC    = $(filter-out cgi-bin/main.c,$(wildcard cgi-bin/*.c))
WORKER_SRC = $(filter-out worker/main.c,$(wildcard worker/*.c worker/pi/*.c))
UNIT_SRC   = $(wildcard tests/unit/test_*.c)
FUZZ_SRC   = $(wildcard tests/fuzz/fuzz_*.c)

COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/schema_sql.o
CGI_OBJ    = $(CGI_SRC:%.c=$(BUILD)/%.o)
WORKER_OBJ = $(WORKER_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

FCGI_BIN   = $(BUILD)/nthpi-fcgi
WORKER_BIN = $(BUILD)/nthpi-worker

.PHONY: all programs run test unit bench fuzz install clean deps deps-test \
    format check
.DELETE_ON_ERROR:

all: programs $(UNIT_BIN)

# The two programs alone, without the unit tests: what make run needs.
programs: $(FCGI_BIN) $(WORKER_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -Icgi-bin -Iworker -Iworker/pi -c -o $@ $<

# The schema is compiled into both programs so an installed binary needs no
# path to find it.
$(BUILD)/gen/schema_sql.c: sql/schema.sql $(wildcard sql/migrations/*.sql) scripts/embed-sql.sh
	@mkdir -p $(@D)
	sh scripts/embed-sql.sh sql/schema.sql sql/migrations > $@

$(BUILD)/gen/schema_sql.o: $(BUILD)/gen/schema_sql.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/libcgi.a: $(CGI_OBJ)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/libworker.a: $(WORKER_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FCGI_BIN): $(BUILD)/cgi-bin/main.o $(BUILD)/libcgi.a $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(WORKER_BIN): $(BUILD)/worker/main.o $(BUILD)/libworker.a $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libcgi.a $(BUILD)/libworker.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Installs what is missing from Debian (as root), or says what to install.
deps:
	sh scripts/deps.sh run

deps-test:
	sh scripts/deps.sh test

# run.sh reports how long the build took, if anything was built (a fresh
# clone's first minute is mostly this).
run: deps
	@if $(MAKE) -q programs; then t=; else \
	    s=$$(date +%s) && $(MAKE) programs && t=$$(($$(date +%s) - s)); \
	fi && NTHPI_BUILD_SECONDS=$$t sh scripts/run.sh

# make test T=NAME runs one test program (tests/run.sh NAME); T empty, all.
test: deps-test
	$(MAKE) all
	sh tests/run.sh $(T)

unit: all
	sh tests/run.sh unit

bench: deps-test
	$(MAKE) all
	sh bench/run.sh

install: $(FCGI_BIN) $(WORKER_BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)/htdocs \
	    $(DESTDIR)$(SHAREDIR)/sql/migrations $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(FCGI_BIN) $(WORKER_BIN) $(DESTDIR)$(BINDIR)/
	install -m 0644 htdocs/* $(DESTDIR)$(SHAREDIR)/htdocs/
	install -m 0644 sql/schema.sql $(DESTDIR)$(SHAREDIR)/sql/
	for f in sql/migrations/*.sql; do [ -e "$$f" ] || continue; \
	    install -m 0644 "$$f" $(DESTDIR)$(SHAREDIR)/sql/migrations/; done
	sed -e 's|/usr/local/share/nthpi|$(SHAREDIR)|g' nginx.conf \
	    > $(DESTDIR)$(SHAREDIR)/nginx.conf
	for f in systemd/*; do [ -e "$$f" ] || continue; \
	    sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SHAREDIR@|$(SHAREDIR)|g' "$$f" \
	    > $(DESTDIR)$(UNITDIR)/$$(basename "$$f"); done
	for f in man/*.8; do [ -e "$$f" ] || continue; \
	    sed -e 's|@SHAREDIR@|$(SHAREDIR)|g' "$$f" \
	    > $(DESTDIR)$(MANDIR)/man8/$$(basename "$$f"); done

# Every C file of the project (scripts/ls-files.sh: those git tracks), in
# the layout of .clang-format; tests/hygiene.py fails on one it would change.
format:
	sh scripts/ls-files.sh '*.c' '*.h' | xargs -r clang-format -i

check:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	    --inline-suppr -D_GNU_SOURCE -Icommon -Icgi-bin -Iworker -Iworker/pi \
	    common cgi-bin worker

clean:
	rm -rf $(BUILD)

# ---- Fuzzing (tests/fuzz/README.md) -------------------------------------
# libFuzzer targets for the request parsers and nparse, with ASan and UBSan.
# The parsers and everything they link are compiled again with clang into
# $(FUZZ_DIR)/, apart from the gcc build. `make fuzz` runs each target for
# FUZZ_SECONDS and keeps what it learns in $(FUZZ_DIR)/corpus/; `make
# fuzz-smoke` (run by tests/run.sh) runs each for FUZZ_SMOKE_SECONDS from
# the checked-in corpus and prints ok / not ok lines. Needs clang and
# libclang-rt-14-dev (`make deps-test`).
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_DIR      = $(BUILD)/fuzz
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   = $(WARN) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) \
    -fsanitize=fuzzer-no-link -D_GNU_SOURCE -Icommon -Icgi-bin \
    $(PKG_CFLAGS) -pthread
FUZZ_LIB_OBJ  = $(COMMON_SRC:%.c=$(FUZZ_DIR)/obj/%.o) \
    $(CGI_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/$(BUILD)/gen/schema_sql.o
FUZZ_BIN      = $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_OBJ      = $(FUZZ_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/tests/fuzz/ref.o

.PHONY: fuzz-build fuzz-smoke
# Kept, so that a second run does not compile them again.
.SECONDARY: $(FUZZ_OBJ)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/libnthpi.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o \
    $(FUZZ_DIR)/obj/tests/fuzz/ref.o $(FUZZ_DIR)/libnthpi.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	sh tests/fuzz/run.sh long $(FUZZ_DIR) $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	sh tests/fuzz/run.sh smoke $(FUZZ_DIR) $(FUZZ_SMOKE_SECONDS)
# ---- end of fuzzing -------------------------------------------------------

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
