# Thin wrapper around CMake: installs what a fresh Debian machine lacks,
# builds, and runs the demo or the tests.
BUILD_DIR  ?= build
BUILD_TYPE ?= Release
CTEST_ARGS ?=

# Everything comes from Debian. systemd-container boots systemd for the
# real-systemd specs, elixir builds the real release they run; hyperfine
# runs the benchmarks.
DEBIAN_PACKAGES = cmake make gcc libc6-dev pkgconf liblua5.4-dev lua5.4 \
	lua-cjson lua-cjson-dev lua-busted systemd systemd-container hyperfine \
	passwd util-linux procps iproute2 elixir

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: all deps build demo test bench docs asan ubsan valgrind fuzz clean

all: build

deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "Installing missing Debian packages:" $$missing; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DBUILD_TESTING=ON
	cmake --build $(BUILD_DIR) -j2

demo: build
	./$(BUILD_DIR)/unitforge examples/basic/deploy.lua --stdout

test: build
	cd $(BUILD_DIR) && UNITFORGE_WRAPPER='$(UNITFORGE_WRAPPER)' ctest --output-on-failure $(CTEST_ARGS)

bench: build
	@command -v /usr/bin/time >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time
	@command -v strace >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace
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

valgrind: deps
	@command -v valgrind >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind
	$(MAKE) test BUILD_TYPE=Debug BUILD_DIR=build-debug \
		UNITFORGE_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect"

# libFuzzer over the template compiler, the escaper, the mix.exs reader
# and the module loader, FUZZ_SECONDS each, starting from the seed
# corpus in spec/fuzz/corpus.
FUZZ_SECONDS ?= 300
fuzz: deps
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
