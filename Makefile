# make        installs the pinned toolchain from npm and builds dist/hull (one file)
# make test   the whole test suite (as an ordinary user; see README)
# make check  type check, lint and format check (biome), and the house rules
# make fmt    apply biome's formatting and safe fixes
SHELL := /bin/bash
BUN := node_modules/.bin/bun
SRC := $(shell find src -name '*.ts') package.json tsconfig.json
# musl gives an 80 KB static shim (glibc: 800 KB); it is copied into a memfd on every `hull run`.
# musl and a static busybox (the embedded image) are the system's, else Debian's packages fetched
# without root into build/debs (tools/musl-cc, tools/static-busybox, tools/debian-pkg)
CFLAGS := -static -Os -Wall -Wextra -Werror -ffunction-sections -fdata-sections -Wl,--gc-sections

.PHONY: all test test-vm check fmt bench clean run
all: dist/hull

$(BUN): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build/hull-shim: $(wildcard ffi/*.c ffi/*.h)
	@mkdir -p build
	cc=$$(tools/musl-cc) && $$cc $(CFLAGS) -o $@ $(wildcard ffi/*.c)
	strip $@

build/busybox-image/layer.tar: rootfs/build.sh $(wildcard rootfs/etc/*)
	busybox=$$(tools/static-busybox) && BUSYBOX=$$busybox sh rootfs/build.sh build/busybox-image

# no .env or bunfig.toml autoloading: a compiled Bun program reads them from the working directory,
# so a checkout's .env could set HULL_ROOT, PATH (the helpers hull starts) or HULL_CONFIG for hull.
# JIT policy 10: functions tier up after 10x the calls. A hull command lives tens of ms, and the JIT
# threads took the second core from the shim and the container: -3.9 ms on `hull run`, -5 ms on
# `hull ps` (medians of paired turns, bench/interleave.ts), and no change on a 200 MB import.
dist/hull: $(BUN) $(SRC) build/hull-shim build/busybox-image/layer.tar
	@mkdir -p dist
	$(BUN) build --compile --no-compile-autoload-dotenv --no-compile-autoload-bunfig --compile-jit-policy=10 --minify --splitting --bytecode --format=esm --sourcemap=none src/cli/main.ts src/image/inflate-worker.ts --outfile $@

test: dist/hull
	$(BUN) test --timeout 60000

# cgroup v2 limits in a systemd guest under qemu (these hosts have no delegated cgroup v2): the
# guest is built once by `sudo test/vm/image.sh` (root: debootstrap), then any user runs the test
test-vm: dist/hull
	@[ "$$(id -u)" != 0 ] || test/vm/image.sh
	rm -rf build/vm-share && mkdir -p build/vm-share && cp dist/hull test/vm/cgroup.sh build/vm-share/
	test/vm/run.sh build/vm-share bash /mnt/host/cgroup.sh

check: $(BUN)
	node_modules/.bin/tsc -p .
	node_modules/.bin/biome check src test tools bench/report.ts bench/floor-report.ts bench/floor-programs
	@! grep -rln "bun:ffi" src | grep -v '^src/sys/' || { echo "bun:ffi imported outside src/sys/"; exit 1; }
	@! grep -rln "process.exit" src | grep -v '^src/cli/' || { echo "process.exit outside src/cli/"; exit 1; }

fmt: $(BUN)
	node_modules/.bin/biome check --write src test tools bench/report.ts bench/floor-report.ts bench/floor-programs

run: dist/hull
	dist/hull run --rm busybox sh -c 'id; hostname; ps; cat /proc/self/uid_map'

bench: dist/hull
	bench/startup

clean:
	rm -rf build dist
