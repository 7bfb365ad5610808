/* ek_wvtime: weighted virtual-time fair scheduler.
 *
 * Every task carries a virtual time that advances by the CPU time it used, divided by its
 * weight (nice 0 = 100): a task of twice the weight ages half as fast, so over time it gets
 * twice the CPU. Runnable tasks wait in one queue ordered by virtual time, the smallest first.
 * The scheduler's clock (vtime_now) follows the virtual time of what runs; a task that slept
 * comes back no further behind it than EK_LAG_US, so sleeping buys a bounded head start, not
 * a monopoly.
 *
 * Tunables (-D):
 *   EK_SLICE_US  time slice, in microseconds (default 20000)
 *   EK_LAG_US    largest virtual-time credit a waking task keeps, in microseconds (default 20000)
 */
#include "common.h"

#ifndef EK_SLICE_US
#define EK_SLICE_US 20000
#endif
#if EK_SLICE_US < 100 || EK_SLICE_US > 1000000
#error "EK_SLICE_US must be within 100..1000000"
#endif
#ifndef EK_LAG_US
#define EK_LAG_US 20000
#endif
#if EK_LAG_US < 0 || EK_LAG_US > 10000000
#error "EK_LAG_US must be within 0..10000000"
#endif

#define SLICE_NS ((u64)EK_SLICE_US * EK_NSEC_PER_USEC)
#define LAG_NS ((u64)EK_LAG_US * EK_NSEC_PER_USEC)
#define SHARED_DSQ 0
#define NICE_0_WEIGHT 100

u64 vtime_now;
u64 nr_direct, nr_enqueued, nr_dispatched, nr_lag_clamped;

EK_OPS(ek_wvtime_select_cpu)
s32 ek_wvtime_select_cpu(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);
	bool is_idle = false;
	s32 cpu = scx_bpf_select_cpu_dfl(p, EK_ARG(ctx, 1), EK_ARG(ctx, 2), &is_idle);

	if (is_idle) {
		__sync_fetch_and_add(&nr_direct, 1);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, SLICE_NS, 0);
	}
	return cpu;
}

EK_OPS(ek_wvtime_enqueue)
void ek_wvtime_enqueue(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);
	u64 vtime = p->scx.dsq_vtime;
	u64 floor = vtime_now - LAG_NS;

	/* A sleeper keeps at most LAG_NS of credit against the running clock. */
	if (ek_vtime_before(vtime, floor)) {
		vtime = floor;
		__sync_fetch_and_add(&nr_lag_clamped, 1);
	}
	__sync_fetch_and_add(&nr_enqueued, 1);
	scx_bpf_dsq_insert_vtime(p, SHARED_DSQ, SLICE_NS, vtime, EK_ARG(ctx, 1));
}

EK_OPS(ek_wvtime_dispatch)
void ek_wvtime_dispatch(u64 *ctx)
{
	if (scx_bpf_dsq_move_to_local(SHARED_DSQ))
		__sync_fetch_and_add(&nr_dispatched, 1);
}

EK_OPS(ek_wvtime_running)
void ek_wvtime_running(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);

	/* The clock only moves forward; racing CPUs may lose an update, which is harmless. */
	if (ek_vtime_before(vtime_now, p->scx.dsq_vtime))
		vtime_now = p->scx.dsq_vtime;
}

EK_OPS(ek_wvtime_stopping)
void ek_wvtime_stopping(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);
	u64 left = p->scx.slice;
	u64 used = left >= SLICE_NS ? 0 : SLICE_NS - left;
	u64 weight = p->scx.weight ? p->scx.weight : NICE_0_WEIGHT;

	p->scx.dsq_vtime += used * NICE_0_WEIGHT / weight;
}

EK_OPS(ek_wvtime_enable)
void ek_wvtime_enable(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);

	p->scx.dsq_vtime = vtime_now;
}

EK_OPS_SLEEPABLE(ek_wvtime_init)
s32 ek_wvtime_init(u64 *ctx)
{
	return scx_bpf_create_dsq(SHARED_DSQ, -1);
}

SEC(".struct_ops.link")
struct sched_ext_ops ek_wvtime_ops = {
	.select_cpu = (void *)ek_wvtime_select_cpu,
	.enqueue = (void *)ek_wvtime_enqueue,
	.dispatch = (void *)ek_wvtime_dispatch,
	.running = (void *)ek_wvtime_running,
	.stopping = (void *)ek_wvtime_stopping,
	.enable = (void *)ek_wvtime_enable,
	.init = (void *)ek_wvtime_init,
	.name = "ek_wvtime",
};
