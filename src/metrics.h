/* SPDX-License-Identifier: MIT */
/* Counters of what the VM did (exits, device bytes, API calls), written as Firecracker's
 * JSON lines or Prometheus text. */
#ifndef MOTE_METRICS_H
#define MOTE_METRICS_H

#include "err.h"

#include <stdint.h>
#include <stdio.h>

/* Every counter: X(group, name, help). The groups and names follow
 * Firecracker's metrics where it has the same counter. */
#define METRICS_LIST(X)                                                                        \
	X(api_server, process_startup_time_us,                                                 \
	  "mote's start to the API socket accepting, wall us")                                 \
	X(api_server, process_startup_time_cpu_us, "exec to the API socket accepting, CPU us") \
	X(api_server, requests, "HTTP requests answered")                                      \
	X(api_server, errors, "requests answered with 400")                                    \
	X(api_server, bad_http, "connections closed for malformed HTTP")                       \
	X(vmm, instance_start_us, "InstanceStart to the vCPUs running, us")                    \
	X(vmm, kvm_create_vm_us, "KVM_CREATE_VM, us")                                          \
	X(vmm, guest_boot_done_us, "process start to the guest's boot-done signal, us")        \
	X(vcpu, exit_io_in, "port reads")                                                      \
	X(vcpu, exit_io_out, "port writes")                                                    \
	X(vcpu, exit_mmio_read, "MMIO reads")                                                  \
	X(vcpu, exit_mmio_write, "MMIO writes")                                                \
	X(vcpu, exit_hlt, "HLT exits")                                                         \
	X(vcpu, exit_system_event, "system events (reset, shutdown)")                          \
	X(vcpu, exit_intr, "KVM_RUN interrupted (kicks, signals)")                             \
	X(vcpu, exit_other, "other exits (MSR, debug, shutdown)")                              \
	X(vcpu, failures, "vCPU failures (internal error, entry failure)")                     \
	X(block, read_count, "virtio-blk read requests")                                       \
	X(block, write_count, "virtio-blk write requests")                                     \
	X(block, flush_count, "virtio-blk flushes")                                            \
	X(block, read_bytes, "virtio-blk bytes read")                                          \
	X(block, write_bytes, "virtio-blk bytes written")                                      \
	X(block, io_errors, "virtio-blk requests that failed on the host")                     \
	X(block, invalid_reqs_count, "malformed virtio-blk requests")                          \
	X(net, rx_packets_count, "frames to the guest")                                        \
	X(net, rx_bytes_count, "bytes to the guest")                                           \
	X(net, tx_packets_count, "frames from the guest")                                      \
	X(net, tx_bytes_count, "bytes from the guest")                                         \
	X(net, tx_fails, "frames the tap refused")                                             \
	X(vsock, rx_packets_count, "vsock packets to the guest")                               \
	X(vsock, tx_packets_count, "vsock packets from the guest")                             \
	X(vsock, conns_added, "vsock connections opened")                                      \
	X(entropy, entropy_bytes, "bytes of entropy given")                                    \
	X(balloon, inflate_count, "pages the guest put in the balloon")                        \
	X(balloon, deflate_count, "pages the guest took back")                                 \
	X(balloon, free_page_report_count, "pages the guest reported free")                    \
	X(balloon, stats_updates_count, "statistics updates from the guest")                   \
	X(uart, write_count, "bytes the guest wrote to the serial port")                       \
	X(uart, read_count, "bytes the guest read from the serial port")                       \
	X(logger, missed_metrics_count, "metrics lines that could not be written")             \
	X(logger, missed_log_count, "log lines that could not be written")

enum metric {
#define METRIC_ENUM(group, name, help) METRIC_##group##_##name,
	METRICS_LIST(METRIC_ENUM)
#undef METRIC_ENUM
	    METRIC_NR,
};

/* Adds @n to counter @m (any thread, lock-free). */
void metrics_add(enum metric m, uint64_t n);

/* Adds 1 to counter @m. */
static inline void metrics_inc(enum metric m)
{
	metrics_add(m, 1);
}

/* Sets counter @m to @v: for the times and gauges (api_server
 * process_startup_*, vmm *_us), which the JSON lines report as they are,
 * not as a delta; metrics.c lists them. */
void metrics_set(enum metric m, uint64_t v);

/* The current value of counter @m. */
uint64_t metrics_get(enum metric m);

/* Zeroes every counter (tests, a new VM in the process). */
void metrics_reset(void);

/* Writes one JSON line of every counter, grouped as Firecracker groups them,
 * with "utc_timestamp_ms"; the counts since the previous line for the
 * counters Firecracker resets (all but the times set with metrics_set), as
 * it does. Returns 0, or -1 if the write failed (the next line then carries
 * these counts too). */
int metrics_write_json(FILE *out);

/* Writes every counter in the Prometheus text format (mote_<group>_<name>,
 * with HELP and TYPE lines), totals since start; -1 if the write failed. */
int metrics_write_prometheus(FILE *out);

/* Sends metrics lines to @path (a file, appended, or a FIFO: opened
 * non-blocking for writing, so a FIFO needs a reader); -1 with @e naming the
 * path and the reason. */
int metrics_open(const char *path, struct err *e);

/* Closes the metrics file, if one is open (tests; a new VM in the process). */
void metrics_close(void);

/* Writes one line to the metrics file if one is open (FlushMetrics, and
 * every 60 s), in one write(2); -1 with @e if none is open or the write
 * failed or was short, which counts logger.missed_metrics_count (the counts
 * then go in the next line). */
int metrics_flush(struct err *e);

struct evloop;

/* Flushes the metrics file, when one is open, every 60 s from the I/O
 * thread's loop @l (a timerfd; one timer, a second call is a no-op); -1
 * with @e if the timer cannot be made. */
int metrics_start_timer(struct evloop *l, struct err *e);

/* Takes the timer out of @l and closes it; no-op if it never started. */
void metrics_stop_timer(struct evloop *l);

#endif
