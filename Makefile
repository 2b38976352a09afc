# Thin wrapper around CMake: installs what a fresh Debian machine lacks,
# builds, and runs the demo or the tests.
BUILD_DIR  ?= build
BUILD_TYPE ?= Release
CTEST_ARGS ?=

# Everything comes from Debian. systemd-container boots systemd for the
# real-systemd specs; hyperfine runs the benchmarks.
DEBIAN_PACKAGES = cmake make gcc libc6-dev pkgconf liblua5.4-dev lua5.4 \
	lua-cjson lua-cjson-dev lua-busted systemd systemd-container hyperfine \
	passwd util-linux procps

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: all deps build demo test bench clean

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
	cd $(BUILD_DIR) && ctest --output-on-failure $(CTEST_ARGS)

bench: build
	bench/startup.sh $(BUILD_DIR)/unitforge

clean:
	rm -rf $(BUILD_DIR)
