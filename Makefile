# lifecycle: PGXS build.  `make`, `make install`, `make installcheck`.
EXTENSION = lifecycle
EXTVERSION = 1.1

MODULE_big = lifecycle
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script of the current version is assembled from
# install/NN_*.sql, one file per feature.  Released install scripts are kept
# byte for byte in install/released/, upgrade scripts in install/upgrades/.
# The upgrade script to it, from install/upgrades/<from>--<to>/NN_*.sql, one
# file per change.
INSTALL_PARTS = $(sort $(wildcard install/[0-9]*.sql))
UPGRADE_PARTS = $(sort $(wildcard install/upgrades/1.0--$(EXTVERSION)/[0-9]*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql $(EXTENSION)--1.0--$(EXTVERSION).sql
DATA = $(wildcard install/released/$(EXTENSION)--*.sql)

TESTS = $(sort $(wildcard sql/*.sql))
REGRESS = $(patsubst sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)
ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --inputdir=. --load-extension=$(EXTENSION)

PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers

# Objects are rebuilt when a header they include changes (PGXS's own
# dependency tracking, which Debian's build leaves off; .deps/).
override autodepend = yes

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Only the SQL-callable functions and Pg_magic_func are exported from
# lifecycle.so (test/scripts/symbols.sh checks it): PostgreSQL 16's PGXS
# compiles modules with -fvisibility=hidden (CFLAGS_SL_MODULE) and src/compat.h
# marks the exports as 16 does; before 16, add the flag here, where the
# compiler takes it.
ifeq ($(CFLAGS_SL_MODULE),)
ifeq ($(shell $(CC) -fvisibility=hidden -E - </dev/null >/dev/null 2>&1 && echo yes),yes)
override CFLAGS += -fvisibility=hidden
endif
endif

$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS)
	cat $^ > $@

$(EXTENSION)--1.0--$(EXTVERSION).sql: $(UPGRADE_PARTS)
	cat $^ > $@
