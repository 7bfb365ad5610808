/* ek_latency: short slices, and the tasks that run briefly go first.
 *
 * Each task keeps a moving average of how long it runs before it blocks or is preempted.
 * A runnable task is queued by a deadline: now plus that average (capped at EK_MAX_RUN_US),
 * halved for a task that is waking up. Interactive tasks — they wake often and run for
 * microseconds — get near deadlines and overtake CPU hogs; a hog still runs once the clock
 * passes its deadline, so it waits at most about EK_MAX_RUN_US behind newcomers. Slices are
 * short (EK_SLICE_US) so a hog cannot hold a CPU for long once it has one.
 *
 * Tunables (-D):
 *   EK_SLICE_US       time slice, in microseconds (default 3000)
 *   EK_MAX_RUN_US     cap of the run-time average used in a deadline, microseconds (default 10000)
 *   EK_WAKEUP_BOOST   1: waking tasks get half their deadline distance (default 1)
 */
#include "common.h"

#ifndef EK_SLICE_US
#define EK_SLICE_US 3000
#endif
#if EK_SLICE_US < 100 || EK_SLICE_US > 100000
#error "EK_SLICE_US must be within 100..100000"
#endif
#ifndef EK_MAX_RUN_US
#define EK_MAX_RUN_US 10000
#endif
#if EK_MAX_RUN_US < 100 || EK_MAX_RUN_US > 1000000
#error "EK_MAX_RUN_US must be within 100..1000000"
#endif
#ifndef EK_WAKEUP_BOOST
#define EK_WAKEUP_BOOST 1
#endif
#if EK_WAKEUP_BOOST != 0 && EK_WAKEUP_BOOST != 1
#error "EK_WAKEUP_BOOST must be 0 or 1"
#endif

#define SLICE_NS ((u64)EK_SLICE_US * EK_NSEC_PER_USEC)
#define MAX_RUN_NS ((u64)EK_MAX_RUN_US * EK_NSEC_PER_USEC)
#define SHARED_DSQ 0

struct ek_task {
	u64 avg_run_ns;
	u64 started_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ek_task);
} ek_tasks SEC(".maps");

u64 nr_direct, nr_enqueued, nr_dispatched, nr_boosted;

EK_OPS(ek_latency_select_cpu)
s32 ek_latency_select_cpu(u64 *ctx)
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

EK_OPS(ek_latency_enqueue)
void ek_latency_enqueue(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);
	u64 enq_flags = EK_ARG(ctx, 1);
	struct ek_task *t = bpf_task_storage_get(&ek_tasks, p, 0, 0);
	u64 run_ns = t ? EK_MIN(t->avg_run_ns, MAX_RUN_NS) : MAX_RUN_NS;

	if (EK_WAKEUP_BOOST && (enq_flags & SCX_ENQ_WAKEUP)) {
		run_ns /= 2;
		__sync_fetch_and_add(&nr_boosted, 1);
	}
	__sync_fetch_and_add(&nr_enqueued, 1);
	scx_bpf_dsq_insert_vtime(p, SHARED_DSQ, SLICE_NS, bpf_ktime_get_ns() + run_ns, enq_flags);
}

EK_OPS(ek_latency_dispatch)
void ek_latency_dispatch(u64 *ctx)
{
	if (scx_bpf_dsq_move_to_local(SHARED_DSQ))
		__sync_fetch_and_add(&nr_dispatched, 1);
}

EK_OPS(ek_latency_running)
void ek_latency_running(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);
	struct ek_task *t = bpf_task_storage_get(&ek_tasks, p, 0, 0);

	if (t)
		t->started_ns = bpf_ktime_get_ns();
}

EK_OPS(ek_latency_stopping)
void ek_latency_stopping(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);
	struct ek_task *t = bpf_task_storage_get(&ek_tasks, p, 0, 0);
	u64 ran_ns;

	if (!t || !t->started_ns)
		return;
	ran_ns = bpf_ktime_get_ns() - t->started_ns;
	/* Exponential moving average, 1/4 weight to the newest run. */
	t->avg_run_ns = (t->avg_run_ns * 3 + EK_MIN(ran_ns, MAX_RUN_NS)) / 4;
}

EK_OPS(ek_latency_init_task)
s32 ek_latency_init_task(u64 *ctx)
{
	struct task_struct *p = (void *)EK_ARG(ctx, 0);
	struct ek_task *t = bpf_task_storage_get(&ek_tasks, p, 0, EK_STORAGE_CREATE);

	if (!t)
		return -12; /* -ENOMEM: the kernel refuses the task rather than run it unknown */
	t->avg_run_ns = 0;
	return 0;
}

EK_OPS_SLEEPABLE(ek_latency_init)
s32 ek_latency_init(u64 *ctx)
{
	return scx_bpf_create_dsq(SHARED_DSQ, -1);
}

SEC(".struct_ops.link")
struct sched_ext_ops ek_latency_ops = {
	.select_cpu = (void *)ek_latency_select_cpu,
	.enqueue = (void *)ek_latency_enqueue,
	.dispatch = (void *)ek_latency_dispatch,
	.running = (void *)ek_latency_running,
	.stopping = (void *)ek_latency_stopping,
	.init_task = (void *)ek_latency_init_task,
	.init = (void *)ek_latency_init,
	.name = "ek_latency",
};
