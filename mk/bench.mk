# make bench: mote against QEMU (-M microvm, -M q35) on the same guest kernel,
# initrd and memory, side by side in one run: boot times (mote's boot trace
# and the time to the guest's init marker), boot time against guest memory and
# mote's memory backend, and memory per VM with N idle VMs. Writes CSV, a
# results summary and gnuplot charts (SVG, PNG) to $(BUILD)/bench; see
# docs/benchmarks.md. Every section that boots VMs goes through tools/kvm-env,
# one invocation per batch. BENCH_RUNS boots per case (other knobs: the
# BENCH_* variables at the top of tools/bench/run).
BENCH_RUNS ?= 30

bench: deps
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
