/**
 * Sample scheduler policies for the tests that need policies but not the project's built-ins
 * (those are src/schedcp/bpf/catalog.ts): repository rows, search, recommendations, static
 * checks. Their metadata is richer in tags than the built-ins' so that ranking and search have
 * something to tell apart.
 */

import type { CatalogEntry } from "../../src/schedcp/catalog-types";

const FIFO = `/* Global FIFO: one shared queue, every task runs a full slice in arrival order. */
#include "common.h"

#ifndef slice_us
#define slice_us 20000
#endif

#define SHARED_DSQ 0

char _license[] SEC("license") = "GPL";

SEC("struct_ops/fifo_select_cpu")
s32 fifo_select_cpu(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];
	bool idle = false;
	s32 cpu = scx_bpf_select_cpu_dfl(p, (s32)ctx[1], ctx[2], &idle);

	/* An idle CPU takes the task at once, without touching the shared queue. */
	if (idle)
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_us * 1000ULL, 0);
	return cpu;
}

SEC("struct_ops/fifo_enqueue")
int fifo_enqueue(unsigned long long *ctx)
{
	scx_bpf_dsq_insert((void *)ctx[0], SHARED_DSQ, slice_us * 1000ULL, ctx[1]);
	return 0;
}

SEC("struct_ops/fifo_dispatch")
int fifo_dispatch(unsigned long long *ctx)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
	return 0;
}

SEC("struct_ops.s/fifo_init")
s32 fifo_init(unsigned long long *ctx)
{
	return scx_bpf_create_dsq(SHARED_DSQ, -1);
}

SEC(".struct_ops.link")
struct sched_ext_ops fifo_ops = {
	.select_cpu = (void *)fifo_select_cpu,
	.enqueue    = (void *)fifo_enqueue,
	.dispatch   = (void *)fifo_dispatch,
	.init       = (void *)fifo_init,
	.name       = "ek_fifo",
};
`;

const VTIME = `/* Weighted fair share by virtual time: a task's clock advances by the time it ran divided
 * by its weight; the task with the smallest clock runs next. */
#include "common.h"

#ifndef slice_us
#define slice_us 5000
#endif

#define SHARED_DSQ 0
#define SLICE_NS (slice_us * 1000ULL)

char _license[] SEC("license") = "GPL";

static u64 vtime_now;

static bool before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

SEC("struct_ops/vtime_enqueue")
int vtime_enqueue(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];
	u64 vtime = p->scx.dsq_vtime;

	/* A task that slept long keeps at most one slice of credit. */
	if (before(vtime, vtime_now - SLICE_NS))
		vtime = vtime_now - SLICE_NS;
	scx_bpf_dsq_insert_vtime(p, SHARED_DSQ, SLICE_NS, vtime, ctx[1]);
	return 0;
}

SEC("struct_ops/vtime_dispatch")
int vtime_dispatch(unsigned long long *ctx)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
	return 0;
}

SEC("struct_ops/vtime_running")
int vtime_running(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];

	if (before(vtime_now, p->scx.dsq_vtime))
		vtime_now = p->scx.dsq_vtime;
	return 0;
}

SEC("struct_ops/vtime_stopping")
int vtime_stopping(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];

	/* Charge the time used, scaled by the inverse of the weight (100 is nice 0). */
	p->scx.dsq_vtime += (SLICE_NS - p->scx.slice) * 100 / p->scx.weight;
	return 0;
}

SEC("struct_ops/vtime_enable")
int vtime_enable(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];

	p->scx.dsq_vtime = vtime_now;
	return 0;
}

SEC("struct_ops.s/vtime_init")
s32 vtime_init(unsigned long long *ctx)
{
	return scx_bpf_create_dsq(SHARED_DSQ, -1);
}

SEC(".struct_ops.link")
struct sched_ext_ops vtime_ops = {
	.enqueue  = (void *)vtime_enqueue,
	.dispatch = (void *)vtime_dispatch,
	.running  = (void *)vtime_running,
	.stopping = (void *)vtime_stopping,
	.enable   = (void *)vtime_enable,
	.init     = (void *)vtime_init,
	.name     = "ek_vtime",
};
`;

const INTERACTIVE = `/* Latency first: short slices, and a task that just woke up (it waited on something, as
 * request handlers and interactive programs do) is queued ahead of tasks that used up their
 * slice. */
#include "common.h"

#ifndef slice_us
#define slice_us 1000
#endif
#ifndef wakeup_boost
#define wakeup_boost 1
#endif

#define WOKEN_DSQ 0
#define BATCH_DSQ 1

char _license[] SEC("license") = "GPL";

SEC("struct_ops/interactive_enqueue")
int interactive_enqueue(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];
	u64 enq_flags = ctx[1];
	u64 dsq = BATCH_DSQ;

	if (wakeup_boost && (enq_flags & SCX_ENQ_WAKEUP))
		dsq = WOKEN_DSQ;
	scx_bpf_dsq_insert(p, dsq, slice_us * 1000ULL, enq_flags);
	return 0;
}

SEC("struct_ops/interactive_dispatch")
int interactive_dispatch(unsigned long long *ctx)
{
	if (!scx_bpf_dsq_move_to_local(WOKEN_DSQ))
		scx_bpf_dsq_move_to_local(BATCH_DSQ);
	return 0;
}

SEC("struct_ops.s/interactive_init")
s32 interactive_init(unsigned long long *ctx)
{
	s32 err = scx_bpf_create_dsq(WOKEN_DSQ, -1);

	if (err)
		return err;
	return scx_bpf_create_dsq(BATCH_DSQ, -1);
}

SEC(".struct_ops.link")
struct sched_ext_ops interactive_ops = {
	.enqueue  = (void *)interactive_enqueue,
	.dispatch = (void *)interactive_dispatch,
	.init     = (void *)interactive_init,
	.name     = "ek_interactive",
};
`;

/** Three policies, one per kind the issue names: a global FIFO, weighted vtime, latency first. */
export const SAMPLE_POLICIES: readonly CatalogEntry[] = [
  {
    name: "fifo",
    description:
      "Global first-in, first-out: one shared queue, each task runs a full slice in the order it became runnable.",
    algorithm:
      "select_cpu puts a task on an idle CPU's local queue directly; otherwise enqueue appends it to one shared dispatch queue, and a CPU that runs dry takes the head of that queue.",
    useCases: ["cpu-bound-batch", "batch", "throughput", "hpc"],
    tunables: [
      {
        name: "slice_us",
        type: "int",
        default: 20000,
        min: 1000,
        max: 100000,
        description: "Time slice in microseconds.",
      },
    ],
    limitations:
      "No priorities and no fairness: a long-running task holds its CPU for a full slice, so short interactive tasks wait behind it; latency suffers under load.",
    opsName: "ek_fifo",
    source: FIFO,
  },
  {
    name: "vtime-fair",
    description:
      "Weighted fair sharing by virtual time: each task's clock runs at the inverse of its weight, and the task with the smallest clock runs next.",
    algorithm:
      "One dispatch queue ordered by virtual time. running() advances the global clock, stopping() charges the slice used divided by the task's weight, enqueue() caps a sleeper's credit at one slice.",
    useCases: ["mixed", "fair", "general-purpose", "multi-tenant"],
    tunables: [
      {
        name: "slice_us",
        type: "int",
        default: 5000,
        min: 500,
        max: 50000,
        description: "Time slice in microseconds.",
      },
    ],
    limitations:
      "One global queue: on machines with many CPUs the shared queue's lock contends; no NUMA or cache awareness.",
    opsName: "ek_vtime",
    source: VTIME,
  },
  {
    name: "interactive",
    description:
      "Latency first: short slices, and tasks that just woke up run before tasks that used up their slice.",
    algorithm:
      "Two dispatch queues. A task enqueued on wakeup goes to the woken queue, any other to the batch queue; dispatch drains the woken queue first.",
    useCases: ["latency-sensitive", "interactive", "request-serving", "web"],
    tunables: [
      {
        name: "slice_us",
        type: "int",
        default: 1000,
        min: 100,
        max: 20000,
        description: "Time slice in microseconds.",
      },
      {
        name: "wakeup_boost",
        type: "bool",
        default: true,
        description: "Queue woken tasks ahead of the rest.",
      },
    ],
    limitations:
      "CPU-bound batch work can starve while woken tasks keep arriving; short slices cost throughput through more context switches.",
    opsName: "ek_interactive",
    source: INTERACTIVE,
  },
];
