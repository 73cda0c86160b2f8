# ukl: link applications into Linux.  `make help` lists every target and variable.
#
# The Makefile is a thin front: each target calls one script in scripts/, and the scripts
# decide what is stale (hashes of inputs, recipes, profiles and patches), so every target is
# safe to rerun.

APP      ?= memcached
PROFILE  ?= ukl
ARGS     ?=
HOSTPORT ?=
TIMEOUT  ?=
GDB      ?= 0
ACCEL    ?= auto
ICOUNT   ?= 0
MEM      ?= 512M
SMP      ?= 2
APPEND   ?=
V        ?= 0
export V FORCE UKL_CACHE UKL_BUILD UKL_OUT UKL_JOBS CCACHE PROFILES BOOTS ONLY SCALE REQUESTS SOAK
# Debian's python3 (with python3-matplotlib from scripts/setup.sh) before any other on PATH,
# such as a pyenv shim without the figures' packages
export PATH := /usr/bin:$(PATH)

S := scripts
OUTDIR = out/$(APP)/$(PROFILE)

.PHONY: all accel-check image setup fetch kernel app run demo gdb perf test test-host test-boot repin clean distclean help \
	eval eval-micro bench pgo plots fig1 fig2 fig4 fig6 fig7

all: image

image:
	@$(S)/image.sh $(APP) $(PROFILE)

setup:
	@$(S)/setup.sh

fetch:
	@$(S)/setup.sh --check-or-install
	@$(S)/fetch.sh $$(awk '!/^#/ && NF {print $$1}' inputs.lock)

kernel:
	@$(S)/kernel.sh $(PROFILE)

app:
	@$(S)/app.sh --show $(APP) >/dev/null
	@$(S)/app.sh $(APP) $$(. profiles/$(PROFILE).profile 2>/dev/null && echo $$PROFILE_APP_FLAVOUR || \
		{ echo "ukl: error: unknown profile '$(PROFILE)'" >&2; echo none; })

# the accelerator is checked before a long build (ACCEL=kvm on a host that cannot run a guest)
accel-check:
	@$(S)/accel.sh $(if $(filter 1,$(ICOUNT)),--icount) $(ACCEL) >/dev/null

run: accel-check image
	@$(S)/boot-app.sh $(APP) $(PROFILE)

gdb:
	@$(S)/gdb.sh $(APP) $(PROFILE)

# perf: Debian's perf in the guest under the bench's load, then the linux twin (scripts/perf.sh)
perf: accel-check
	@$(S)/setup.sh --check-or-install
	@$(S)/perf.sh $(APP) $(PROFILE)

demo: accel-check image
	@$(S)/boot-app.sh --demo $(APP) $(PROFILE)

test:
	@tests/run.sh $(if $(TESTS),$(TESTS))

# eval: microbenchmarks on every profile (eval/micro.sh), then summary.csv, report.md and
# the figures (eval/analyze.py); figN re-plots from the saved CSVs without booting.  Both
# halves of `make eval` stamp one run ID (UKL_EVAL_RUN): report.md includes a bench only from
# the same run, so make eval-micro never reports a bench left over from an earlier make bench
eval:
	@$(S)/setup.sh --check-or-install
	@export UKL_EVAL_RUN=$$(date -u +%Y%m%dT%H%M%SZ)-$$$$ && eval/micro.sh && \
		APP=memcached eval/bench.sh && { PROFILES="$(REDIS_PROFILES)" eval/redis.sh; r=$$?; \
		eval/analyze.py && exit $$r; }

eval-micro:
	@$(S)/setup.sh --check-or-install
	@eval/micro.sh
	@eval/analyze.py

# bench: stock and UKL images of APP alternating under the same load (eval/bench.sh)
# RATES="" (set, empty): closed loop only, no open-loop sweep and so no fig 6
bench:
	@$(S)/setup.sh --check-or-install
ifeq ($(APP),redis)
	@eval/redis.sh
else
	@APP=$(APP) eval/bench.sh
	$(if $(and $(filter-out undefined,$(origin RATES)),$(if $(strip $(RATES)),,1)),@echo "ukl: bench: RATES is empty: closed loop only (no fig 6)",@eval/analyze.py --fig 6)
endif

plots:
	@eval/analyze.py

# pgo: train a sample profile of ukl-lto under a memcached load (the meter's exact block and
# branch counts, llvm-profgen), rebuild the kernel with it as ukl-pgo, measure (eval/pgo/pgo.sh)
pgo:
	@$(S)/setup.sh --check-or-install
	@APP=$(APP) eval/pgo/pgo.sh

fig1 fig2 fig4 fig6 fig7:
	@eval/analyze.py --fig $(subst fig,,$@)

repin:
	@test -n "$(INPUT)" -a -n "$(VERSION)" || { echo "usage: make repin INPUT=<name in inputs.lock> VERSION=<Debian version>"; exit 2; }
	@$(S)/fetch.sh --repin $(INPUT) $(VERSION)

clean:
	rm -rf build out

distclean: clean
	@echo "the download cache stays: rm -rf $${UKL_CACHE:-$$HOME/.cache/ukl} to drop it"

help:
	@echo 'ukl: link applications into Linux 6.12 (see README.md)'
	@echo
	@echo 'Targets:'
	@echo '  all / image  build out/$$APP/$$PROFILE/ (bzImage, vmlinux, System.map, initramfs, report)'
	@echo '  run          build, then boot the image in QEMU (serial on stdout, log in out/…/run.log)'
	@echo '  demo         build, boot in the background, talk to the app through the forwarded port'
	@echo '               (memcached: version/set/get/stats), print the exchange, power off'
	@echo '  gdb          attach gdb to a guest started with GDB=1 (loads out/$$APP/$$PROFILE/vmlinux)'
	@echo '  perf         profile APP on PROFILE with perf in the guest under the bench load, and the'
	@echo '               linux twin (TWIN=0: not): out/$$APP/$$PROFILE/perf/{report.txt,flame.png,...}'
	@echo '  test         the test suite (host checks and boot tests); TESTS="name ..." picks some;'
	@echo '               PROFILES=all runs every boot test on every UKL profile (default: the CI matrix);'
	@echo '               TESTS=kselftest: the kernel'"'"'s own selftests on linux and ukl, out/kselftest/parity.md'
	@echo '               (as processes) and out/kselftest/in-app.md (linked into the app, apps/ksft)'
	@echo '  setup        install host packages (apt, --no-install-recommends) and deb-src entries'
	@echo '  fetch        download, verify and unpack every pinned input of inputs.lock'
	@echo '  kernel       build the kernel objects of $$PROFILE (shared by all apps)'
	@echo '  app          build $$APP for $$PROFILE'"'"'s app flavour'
	@echo '  eval         the paper'"'"'s figures: microbenchmarks (apps/lebench) on every profile and'
	@echo '               the memcached and redis benches, BOOTS boots each in alternation; writes'
	@echo '               out/eval/{raw/,bench/,redis/,summary.csv,report.md,fig1,2,4,6.png,redis/fig5.png}'
	@echo '  eval-micro   only the microbenchmarks (figs 1, 2, 4)'
	@echo '  bench        memcached: stock and UKL boots alternating under eval/loadgen/mcload; prints'
	@echo '               throughput and p99 ratios UKL/stock; out/eval/bench/, fig6.png.  APP=redis:'
	@echo '               fig 5, redis-benchmark (100 clients, 3 threads) on linux and the fast-path'
	@echo '               profiles (eval/redis.sh): out/eval/redis/{report.md,redis.csv,fig5.png}'
	@echo '  pgo          train a sample profile of the ukl-lto kernel under a memcached load (the meter'"'"'s'
	@echo '               exact block and branch counts, llvm-profgen-19), rebuild it as ukl-pgo, measure'
	@echo '               instructions per request on linux, linux-lto, ukl-lto, ukl-pgo (eval/pgo/pgo.sh)'
	@echo '  plots, figN  redo summary/report/figures (fig1 fig2 fig4 fig6 fig7) from saved data, no boot'
	@echo '  repin        accept a new Debian version: make repin INPUT=linux VERSION=6.12.x-y'
	@echo '  clean        remove build/ and out/ (the download cache and ccache stay)'
	@echo
	@echo 'Variables:'
	@echo '  APP=$(APP)          one of: '"$$($(S)/app.sh --known)"
	@echo '  PROFILE=$(PROFILE)        one of: '"$$(cd profiles && ls *.profile | sed 's/\.profile//' | tr '\n' ' ')"
	@echo '  ARGS="..."           app arguments instead of the recipe'"'"'s APP_ARGS (run/demo)'
	@echo '  HOSTPORT=N|auto      host port forwarded to the app'"'"'s port (default: the app port)'
	@echo '  TIMEOUT=S            stop the guest after S seconds; 0 = never (default: 0 for servers, 300)'
	@echo '  GDB=1                QEMU gdbstub on 127.0.0.1:1234, waits for gdb (make gdb APP=.. PROFILE=.. attaches)'
	@echo '  SECS=8, TWIN=1       make perf: seconds of each perf run in the guest; also profile the linux twin'
	@echo '  ACCEL=auto|kvm|tcg   auto uses KVM only where a probe boot shows it can run a guest,'
	@echo '                       else TCG, saying why (scripts/accel.sh)'
	@echo '  ICOUNT=1             TCG with -icount shift=0 (time = instruction count)'
	@echo '  MEM=512M SMP=2       guest size (one socket per vCPU, so the guest brings all up)'
	@echo '  PIN=N                run QEMU on host CPU N only (taskset)'
	@echo '  METER=1              the exact instruction meter (TCG plugin, eval/meter/): make run writes'
	@echo '                       out/APP/PROFILE/meter.csv; bench adds instructions per request'
	@echo '                       (out/eval/bench/meter.md, fig8).  eval-micro meters by default (calls by'
	@echo '                       region: out/eval/meter/calls.csv, fig7); METER=0 turns it off'
	@echo '  APPEND="..."         extra kernel command-line words'
	@echo '  FORCE=1              run the kernel'"'"'s own make even when its stamp says up to date'
	@echo '  PROFILES="linux ukl" eval: the profiles to compare (default: all but ukl-debug); BOOTS=3;'
	@echo '                       SCALE=1 (iteration factor); ONLY=getppid,read (lebench tests);'
	@echo '                       NULL_CALL_TOL (empty-call band: 0.05 with ICOUNT=1, else 0.5), EXTRA_BOOTS=3'
	@echo '                       test: the UKL profiles to run (all, or a list)'
	@echo '  REDIS_PROFILES=...   make eval: the redis profiles (default: linux ukl-ret-byp ukl-shortcut ukl-direct)'
	@echo '  REQUESTS=100000      bench APP=redis: requests per test; SOAK=300: repeat the load for 300 s per boot'
	@echo '  V=1                  show full commands and build output'
	@echo '  UKL_CACHE=dir        download cache (default ~/.cache/ukl); CCACHE=0 disables ccache'
