# Thin wrapper around CMake: installs what a fresh Debian machine lacks,
# builds, and runs the demo or the tests.
#
#   make demo       build (build packages only) and run the basic example
#   make test       the build and the suite's packages, then CTest
#   make install    build, then install into $(DESTDIR)$(PREFIX)
#   make uninstall  remove what `make install` installs there
#   make bench, docs, asan, ubsan, valgrind, fuzz: see the README
BUILD_DIR  ?= build
BUILD_TYPE ?= Release
CTEST_ARGS ?=
PREFIX     ?= /usr/local
DESTDIR    ?=
# ON adds the specs to CTest, which needs lua5.4 and busted: only `make
# test` (and the targets run through it) asks for it.
BUILD_TESTING ?= OFF

# Everything comes from Debian. Building unitforge (and so the demo)
# needs CMake, make and gcc with libc6-dev, Lua 5.4's headers and static
# library (liblua5.4-dev) and lua-cjson's header and static library
# (lua-cjson-dev), which the binary links for `show --json`.
BUILD_PACKAGES = cmake make gcc libc6-dev liblua5.4-dev lua-cjson-dev

# The suite adds: lua5.4 and busted, which run the specs, and lua-cjson,
# which they read JSON with; systemd (systemd-analyze, `systemd --test`)
# to check units; systemd-container, whose systemd-nspawn boots systemd
# for the real-systemd specs, and elixir, which builds the real release
# they run; passwd (useradd), util-linux (unshare, nsenter, setpriv,
# flock), procps (ps, pkill) and iproute2 (ip), which they call.
TEST_PACKAGES = lua5.4 lua-busted lua-cjson systemd systemd-container elixir \
	passwd util-linux procps iproute2

# The benchmarks: hyperfine times, time measures memory, strace counts
# system calls; bench/floor.lua runs on lua5.4.
BENCH_PACKAGES = hyperfine time strace lua5.4

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# Installs those of the Debian packages $(1) that are missing.
define install_missing
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "Installing missing Debian packages:" $$missing; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

.PHONY: all build-deps test-deps deps build demo test install uninstall bench docs asan ubsan valgrind fuzz clean

all: build

build-deps:
	$(call install_missing,$(BUILD_PACKAGES))

test-deps:
	$(call install_missing,$(BUILD_PACKAGES) $(TEST_PACKAGES))

deps: test-deps

build: build-deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DBUILD_TESTING=$(BUILD_TESTING)
	cmake --build $(BUILD_DIR) -j2

demo: build
	./$(BUILD_DIR)/unitforge examples/basic/deploy.lua --stdout

test: test-deps
	@$(MAKE) --no-print-directory build BUILD_TESTING=ON
	cd $(BUILD_DIR) && UNITFORGE_WRAPPER='$(UNITFORGE_WRAPPER)' ctest --output-on-failure --no-tests=error $(CTEST_ARGS)

# A configured $(BUILD_DIR), built: a new one is configured as `make
# build` does, an existing one is built as it is configured (so an
# install as root after `make` or `make test` rewrites nothing there).
define build_as_configured
	@[ -f $(BUILD_DIR)/CMakeCache.txt ] || \
		cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DBUILD_TESTING=$(BUILD_TESTING)
	cmake --build $(BUILD_DIR) -j2
endef

# The binary into $(DESTDIR)$(PREFIX)/bin, the README, docs and examples
# into $(DESTDIR)$(PREFIX)/share/doc/unitforge. DESTDIR stages the tree
# under a folder, for packaging; it must be an absolute path.
install: build-deps
	$(build_as_configured)
	DESTDIR='$(DESTDIR)' cmake --install $(BUILD_DIR) --prefix '$(PREFIX)'

# Removes the files an install with the same PREFIX and DESTDIR puts
# there (as an install into a scratch folder lists them), then the
# folders of unitforge's own that are left empty.
uninstall: build-deps
	$(build_as_configured)
	@stage=$$(mktemp -d) && trap 'rm -rf "$$stage"' EXIT && \
	DESTDIR="$$stage" cmake --install $(BUILD_DIR) --prefix '$(PREFIX)' >/dev/null && \
	(cd "$$stage" && find . ! -type d | sed 's/^\.//') | while read -r file; do \
		rm -fv "$(DESTDIR)$$file"; \
	done && \
	(cd "$$stage" && find . -depth -type d -path '*/unitforge*' | sed 's/^\.//') | while read -r dir; do \
		rmdir "$(DESTDIR)$$dir" 2>/dev/null || :; \
	done

bench: build
	$(call install_missing,$(BENCH_PACKAGES))
	bench/run.sh $(BUILD_DIR)/unitforge

# The reference of keys, from the option table (a spec checks it is current).
docs:
	lua5.4 docs/generate-keys.lua > docs/keys.md.tmp && mv docs/keys.md.tmp docs/keys.md

# The whole suite under the sanitizers, and under valgrind (every run of
# the binary is wrapped; any error fails the spec).
asan:
	$(MAKE) test BUILD_TYPE=Asan BUILD_DIR=build-asan

ubsan:
	$(MAKE) test BUILD_TYPE=Ubsan BUILD_DIR=build-ubsan

valgrind: test-deps
	@command -v valgrind >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind
	$(MAKE) test BUILD_TYPE=Debug BUILD_DIR=build-debug \
		UNITFORGE_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect"

# libFuzzer over the template compiler, the escaper, the mix.exs reader
# and the module loader, FUZZ_SECONDS each, starting from the seed
# corpus in spec/fuzz/corpus.
FUZZ_SECONDS ?= 300
fuzz: build-deps
	@dpkg-query -W -f='$${Status}\n' clang libclang-rt-14-dev 2>/dev/null | grep -c '^install ok installed$$' | grep -q 2 || \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DUNITFORGE_FUZZ=ON -DBUILD_TESTING=OFF
	cmake --build build-fuzz -j2 --target fuzz_template fuzz_escape fuzz_mix_project fuzz_loader
	for target in template escape mix_project loader; do \
		mkdir -p build-fuzz/corpus-$$target && \
		./build-fuzz/fuzz_$$target -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			build-fuzz/corpus-$$target spec/fuzz/corpus/$$target || exit 1; \
	done

clean:
	rm -rf $(BUILD_DIR)
