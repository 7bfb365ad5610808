/* ek_fifo: one global first-in, first-out queue.
 *
 * A waking task whose CPU pick is idle goes straight to that CPU's local queue; every other
 * runnable task joins the tail of one shared queue, and a CPU that runs dry takes the head.
 * No priorities, no weights: the simplest policy that keeps every CPU busy, and the baseline
 * the others are measured against.
 *
 * Tunables (-D):
 *   EK_SLICE_US  time slice of every task, in microseconds (default 20000)
 */
#include "common.h"

#ifndef EK_SLICE_US
#define EK_SLICE_US 20000
#endif
#if EK_SLICE_US < 100 || EK_SLICE_US > 1000000
#error "EK_SLICE_US must be within 100..1000000"
#endif

#define SLICE_NS ((u64)EK_SLICE_US * EK_NSEC_PER_USEC)
#define SHARED_DSQ 0

/* Counters, readable from user space through the .bss map. */
u64 nr_direct, nr_enqueued, nr_dispatched;

EK_OPS(ek_fifo_select_cpu)
s32 ek_fifo_select_cpu(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);
	s32 prev_cpu = EK_ARG(ctx, 1);
	u64 wake_flags = EK_ARG(ctx, 2);
	bool is_idle = false;
	s32 cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);

	if (is_idle) {
		__sync_fetch_and_add(&nr_direct, 1);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, SLICE_NS, 0);
	}
	return cpu;
}

EK_OPS(ek_fifo_enqueue)
void ek_fifo_enqueue(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);

	__sync_fetch_and_add(&nr_enqueued, 1);
	scx_bpf_dsq_insert(p, SHARED_DSQ, SLICE_NS, EK_ARG(ctx, 1));
}

EK_OPS(ek_fifo_dispatch)
void ek_fifo_dispatch(u64 *ctx)
{
	if (scx_bpf_dsq_move_to_local(SHARED_DSQ))
		__sync_fetch_and_add(&nr_dispatched, 1);
}

EK_OPS_SLEEPABLE(ek_fifo_init)
s32 ek_fifo_init(u64 *ctx)
{
	return scx_bpf_create_dsq(SHARED_DSQ, -1);
}

SEC(".struct_ops.link")
struct sched_ext_ops ek_fifo_ops = {
	.select_cpu = (void *)ek_fifo_select_cpu,
	.enqueue = (void *)ek_fifo_enqueue,
	.dispatch = (void *)ek_fifo_dispatch,
	.init = (void *)ek_fifo_init,
	.name = "ek_fifo",
};
