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
# Libraries by package, so that each program and test links what it needs:
# the engine GMP alone; MPFR only a test's reference.
pkg_libs    = $(shell pkg-config --libs $1 2>/dev/null || echo -l$1)
PKG_CFLAGS := $(shell pkg-config --cflags sqlite3 fcgi gmp mpfr 2>/dev/null)
GMP_LIBS   := $(call pkg_libs,gmp)
MPFR_LIBS  := $(call pkg_libs,mpfr)
SQLITE_LIBS := $(call pkg_libs,sqlite3)
FCGI_LIBS  := $(call pkg_libs,fcgi)
ALL_CFLAGS = $(WARN) $(CFLAGS) -D_GNU_SOURCE $(PKG_CFLAGS) -pthread
SYS_LIBS   = -pthread -lm

# The folders and what each may include (docs/design.md draws the map): a
# header of a folder not listed is not found, so crossing a boundary fails
# the build (tests/hygiene.py checks these flags and every #include).
INC_common    = -Icommon
INC_cgi-bin   = -Icgi-bin -Icommon
INC_worker    = -Iworker -Iworker/pi -Icommon
INC_worker/pi = -Iworker/pi
# The library each folder makes, and the packages its code calls.
LIB_common    = $(BUILD)/libcommon.a
LIB_cgi-bin   = $(BUILD)/libcgi.a
LIB_worker    = $(BUILD)/libworker.a
LIB_worker/pi = $(BUILD)/libnthpi-pi.a
PKG_common    = $(SQLITE_LIBS)
PKG_cgi-bin   = $(FCGI_LIBS)
PKG_worker    = $(GMP_LIBS)
PKG_worker/pi = $(GMP_LIBS)
PKG_mpfr      = $(MPFR_LIBS)

COMMON_SRC = $(wildcard common/*.c)
CGI_SRC    = $(filter-out cgi-bin/main.c,$(wildcard cgi-bin/*.c))
WORKER_SRC = $(filter-out worker/main.c,$(wildcard worker/*.c))
PI_SRC     = $(wildcard worker/pi/*.c)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)
FUZZ_SRC   = $(wildcard tests/fuzz/fuzz_*.c)

COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/schema_sql.o
CGI_OBJ    = $(CGI_SRC:%.c=$(BUILD)/%.o)
WORKER_OBJ = $(WORKER_SRC:%.c=$(BUILD)/%.o)
PI_OBJ     = $(PI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

FCGI_BIN   = $(BUILD)/nthpi-fcgi
WORKER_BIN = $(BUILD)/nthpi-worker

# What each unit test links, in link order: the folders whose code it tests
# (and what that code calls), and mpfr where a test checks against MPFR. Its
# #include path is those folders' too. A new test needs a line here.
UNIT_LIBS_test_api_digits     = cgi-bin common
UNIT_LIBS_test_cgi_sql        = cgi-bin common
UNIT_LIBS_test_config         = common
UNIT_LIBS_test_dashboard_sql  = cgi-bin common
UNIT_LIBS_test_db             = common
UNIT_LIBS_test_datalock       = worker common
UNIT_LIBS_test_db_open        = common
UNIT_LIBS_test_dbfile         = common
UNIT_LIBS_test_growth         = worker common
UNIT_LIBS_test_html           = cgi-bin common
UNIT_LIBS_test_json           = cgi-bin common
UNIT_LIBS_test_log            = common
UNIT_LIBS_test_migration      = common
UNIT_LIBS_test_nparse         = common
UNIT_LIBS_test_pacer          = worker worker/pi
UNIT_LIBS_test_pi_engine      = worker/pi
UNIT_LIBS_test_pi_known       = worker worker/pi common
UNIT_LIBS_test_pi_mpfr        = worker/pi mpfr
UNIT_LIBS_test_queue          = worker worker/pi common
UNIT_LIBS_test_range          = cgi-bin common
UNIT_LIBS_test_reference_data = common mpfr
UNIT_LIBS_test_request        = cgi-bin common
UNIT_LIBS_test_search_index   = cgi-bin worker/pi common
UNIT_LIBS_test_serve          = cgi-bin common
UNIT_LIBS_test_sha256         = common
UNIT_LIBS_test_store          = common
UNIT_LIBS_test_storesum       = common
UNIT_LIBS_test_worker_sql     = worker common
# The folders of a unit test (by name), or an error that says what to add.
unit_libs = $(or $(UNIT_LIBS_$1),$(error tests/unit/$1.c: say what it \
    links: UNIT_LIBS_$1 in the Makefile))

.PHONY: all programs run test unit bench fuzz install clean deps deps-test \
    format check
.DELETE_ON_ERROR:
.SECONDEXPANSION:

all: programs $(UNIT_BIN)

# The two programs alone, without the unit tests: what make run needs.
programs: $(FCGI_BIN) $(WORKER_BIN)

# Each object is compiled with its folder's -I flags (INC_*) alone.
$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP $(INC_$(patsubst %/,%,$(dir $<))) -c -o $@ $<

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP \
	    $(sort $(foreach f,$(call unit_libs,$*),$(INC_$f))) -c -o $@ $<

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
# The pi engine as a library of its own: GMP is all it needs (worker/pi/pi.h).
$(BUILD)/libnthpi-pi.a: $(PI_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FCGI_BIN): $(BUILD)/cgi-bin/main.o $(LIB_cgi-bin) $(LIB_common)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_cgi-bin) $(PKG_common) \
	    $(SYS_LIBS)

$(WORKER_BIN): $(BUILD)/worker/main.o $(LIB_worker) $(LIB_worker/pi) \
    $(LIB_common)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_worker) $(PKG_common) \
	    $(SYS_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o \
    $$(foreach f,$$(call unit_libs,$$*),$$(LIB_$$f))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ \
	    $(foreach f,$(call unit_libs,$*),$(PKG_$f)) $(SYS_LIBS)

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

# Each folder with its own -I flags, as the build sees it.
CPPCHECK = cppcheck --quiet --error-exitcode=1 \
    --enable=warning,portability,performance --inline-suppr -D_GNU_SOURCE
check:
	$(CPPCHECK) $(INC_common) common
	$(CPPCHECK) $(INC_cgi-bin) cgi-bin
	$(CPPCHECK) $(INC_worker) worker/*.c
	$(CPPCHECK) $(INC_worker/pi) worker/pi

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
    -fsanitize=fuzzer-no-link -D_GNU_SOURCE $(PKG_CFLAGS) -pthread
# The fuzz targets drive the web program's parsers.
INC_tests/fuzz = $(INC_cgi-bin)
FUZZ_LIB_OBJ  = $(COMMON_SRC:%.c=$(FUZZ_DIR)/obj/%.o) \
    $(CGI_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/$(BUILD)/gen/schema_sql.o
FUZZ_BIN      = $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_OBJ      = $(FUZZ_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/tests/fuzz/ref.o

.PHONY: fuzz-build fuzz-smoke
# Kept, so that a second run does not compile them again.
.SECONDARY: $(FUZZ_OBJ)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP $(INC_$(patsubst %/,%,$(dir $<))) \
	    -c -o $@ $<

$(FUZZ_DIR)/libnthpi.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o \
    $(FUZZ_DIR)/obj/tests/fuzz/ref.o $(FUZZ_DIR)/libnthpi.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(PKG_cgi-bin) \
	    $(PKG_common) $(SYS_LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	sh tests/fuzz/run.sh long $(FUZZ_DIR) $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	sh tests/fuzz/run.sh smoke $(FUZZ_DIR) $(FUZZ_SMOKE_SECONDS)
# ---- end of fuzzing -------------------------------------------------------

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
