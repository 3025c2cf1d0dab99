# make bench: mote against QEMU (-M microvm, -M q35) on the same guest kernel,
# initrd and memory, side by side in one run: boot times (mote's boot trace
# and the time to the guest's init marker), boot time against guest memory and
# mote's memory backend, and memory per VM with N idle VMs. Writes CSV, a
# results summary and gnuplot charts (SVG, PNG) to $(BUILD)/bench; see
# docs/benchmarks.md. Every section that boots VMs goes through tools/kvm-env,
# one invocation per batch. BENCH_RUNS boots per case (other knobs: the
# BENCH_* variables at the top of tools/bench/run).
BENCH_RUNS ?= 30
# kvmtool, the peer of the smp section, built from its source tarball in
# $(PEERS) when there is one (../shared/peers/README.md), into the cache.
PEERS ?= ../shared/peers
KVMTOOL_TAR := $(lastword $(sort $(wildcard $(PEERS)/kvmtool-*.tar.gz)))
KVMTOOL_DIR := $(HOME)/.cache/mote/peers/$(notdir $(KVMTOOL_TAR:.tar.gz=))

kvmtool:
	$(Q)if [ -z "$(KVMTOOL_TAR)" ]; then \
		echo "bench: no kvmtool source in $(PEERS); the smp section runs without it" >&2; \
	elif [ ! -x "$(KVMTOOL_DIR)/lkvm" ]; then \
		echo "bench: building kvmtool from $(KVMTOOL_TAR)" >&2; \
		rm -rf "$(KVMTOOL_DIR)" && mkdir -p "$(KVMTOOL_DIR)" && \
		tar -xzf "$(KVMTOOL_TAR)" -C "$(KVMTOOL_DIR)" --strip-components=1 && \
		$(MAKE) -s -C "$(KVMTOOL_DIR)" -j$$(nproc) >/dev/null 2>"$(KVMTOOL_DIR).log" || \
		{ echo "bench: kvmtool did not build (see $(KVMTOOL_DIR).log)" >&2; rm -f "$(KVMTOOL_DIR)/lkvm"; }; \
	fi

bench: deps kvmtool
	$(Q)$(MAKE) --no-print-directory $(MOTE) guest
	$(Q)command -v gnuplot >/dev/null || { \
		if [ "$$(id -u)" -eq 0 ]; then \
			echo "bench: installing gnuplot-nox for the charts" >&2; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q --no-install-recommends gnuplot-nox >/dev/null || \
			{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends gnuplot-nox >/dev/null; } || \
			echo "bench: could not install gnuplot-nox; CSV and tables only" >&2; \
		else \
			echo "bench: gnuplot missing and not root (apt-get install gnuplot-nox); CSV and tables only" >&2; \
		fi; }
	$(Q)BENCH_RUNS=$(BENCH_RUNS) BENCH_OUT=$(BUILD)/bench tools/bench/run
