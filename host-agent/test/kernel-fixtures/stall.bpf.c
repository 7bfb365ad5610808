/* Must be EJECTED by the sched_ext watchdog: it loads fine, queues every task into its own
 * dispatch queue and never moves one out. With timeout_ms = 2000 the kernel disables it about
 * two seconds after a runnable task stops getting CPU ("runnable task stall"). */
#include "common.h"

#define STUCK_DSQ 0

EK_OPS(stall_enqueue)
void stall_enqueue(u64 *ctx)
{
	scx_bpf_dsq_insert((void *)EK_ARG(ctx, 0), STUCK_DSQ, SCX_SLICE_DFL, EK_ARG(ctx, 1));
}

EK_OPS_SLEEPABLE(stall_init)
s32 stall_init(u64 *ctx)
{
	return scx_bpf_create_dsq(STUCK_DSQ, -1);
}

SEC(".struct_ops.link")
struct sched_ext_ops stall_ops = {
	.enqueue = (void *)stall_enqueue,
	.init = (void *)stall_init,
	.timeout_ms = 2000,
	.name = "stall",
};
