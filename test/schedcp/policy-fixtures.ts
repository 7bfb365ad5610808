/**
 * Sample scheduler policies for the tests that need policies but not the project's built-ins
 * (those are src/schedcp/bpf/catalog.ts): repository rows, search, recommendations, static
 * checks. Their metadata is richer in tags than the built-ins' so that ranking and search have
 * something to tell apart. The sources follow the library's conventions (common.h's macros and
 * license, tunables as `EK_*` macros) and compile with the verifier's compile stage, but are
 * not proven in a kernel.
 */

import type { CatalogEntry } from "../../src/schedcp/metadata";

const FIFO = `/* Global FIFO: one shared queue, every task runs a full slice in arrival order. */
#include "common.h"

#ifndef EK_SLICE_US
#define EK_SLICE_US 20000
#endif

#define SHARED_DSQ 0

EK_OPS(fifo_select_cpu)
s32 fifo_select_cpu(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);
	bool idle = false;
	s32 cpu = scx_bpf_select_cpu_dfl(p, EK_ARG(ctx, 1), EK_ARG(ctx, 2), &idle);

	/* An idle CPU takes the task at once, without touching the shared queue. */
	if (idle)
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, EK_SLICE_US * EK_NSEC_PER_USEC, 0);
	return cpu;
}

EK_OPS(fifo_enqueue)
void fifo_enqueue(u64 *ctx)
{
	scx_bpf_dsq_insert((void *)EK_ARG(ctx, 0), SHARED_DSQ, EK_SLICE_US * EK_NSEC_PER_USEC,
			   EK_ARG(ctx, 1));
}

EK_OPS(fifo_dispatch)
void fifo_dispatch(u64 *ctx)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

EK_OPS_SLEEPABLE(fifo_init)
s32 fifo_init(u64 *ctx)
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

#ifndef EK_SLICE_US
#define EK_SLICE_US 5000
#endif

#define SHARED_DSQ 0
#define SLICE_NS (EK_SLICE_US * EK_NSEC_PER_USEC)

static u64 vtime_now;

EK_OPS(vtime_enqueue)
void vtime_enqueue(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);
	u64 vtime = p->scx.dsq_vtime;

	/* A task that slept long keeps at most one slice of credit. */
	if (ek_vtime_before(vtime, vtime_now - SLICE_NS))
		vtime = vtime_now - SLICE_NS;
	scx_bpf_dsq_insert_vtime(p, SHARED_DSQ, SLICE_NS, vtime, EK_ARG(ctx, 1));
}

EK_OPS(vtime_dispatch)
void vtime_dispatch(u64 *ctx)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

EK_OPS(vtime_running)
void vtime_running(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);

	if (ek_vtime_before(vtime_now, p->scx.dsq_vtime))
		vtime_now = p->scx.dsq_vtime;
}

EK_OPS(vtime_stopping)
void vtime_stopping(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);
	u64 weight = p->scx.weight ? p->scx.weight : 100;

	/* Charge the time used, scaled by the inverse of the weight (100 is nice 0). */
	p->scx.dsq_vtime += (SLICE_NS - EK_MIN(p->scx.slice, SLICE_NS)) * 100 / weight;
}

EK_OPS(vtime_enable)
void vtime_enable(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);

	p->scx.dsq_vtime = vtime_now;
}

EK_OPS_SLEEPABLE(vtime_init)
s32 vtime_init(u64 *ctx)
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

#ifndef EK_SLICE_US
#define EK_SLICE_US 1000
#endif
#ifndef EK_WAKEUP_BOOST
#define EK_WAKEUP_BOOST 1
#endif

#define WOKEN_DSQ 0
#define BATCH_DSQ 1

EK_OPS(interactive_enqueue)
void interactive_enqueue(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);
	u64 enq_flags = EK_ARG(ctx, 1);
	u64 dsq = BATCH_DSQ;

	if (EK_WAKEUP_BOOST && (enq_flags & SCX_ENQ_WAKEUP))
		dsq = WOKEN_DSQ;
	scx_bpf_dsq_insert(p, dsq, EK_SLICE_US * EK_NSEC_PER_USEC, enq_flags);
}

EK_OPS(interactive_dispatch)
void interactive_dispatch(u64 *ctx)
{
	if (!scx_bpf_dsq_move_to_local(WOKEN_DSQ))
		scx_bpf_dsq_move_to_local(BATCH_DSQ);
}

EK_OPS_SLEEPABLE(interactive_init)
s32 interactive_init(u64 *ctx)
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
