/* Must be REJECTED by the kernel verifier: enqueue calls scx_bpf_dsq_move_to_local(), a kfunc
 * sched_ext allows only from dispatch. */
#include "common.h"

EK_OPS(bad_kfunc_enqueue)
void bad_kfunc_enqueue(u64 *ctx)
{
	scx_bpf_dsq_move_to_local(SCX_DSQ_GLOBAL);
	scx_bpf_dsq_insert((void *)EK_ARG(ctx, 0), SCX_DSQ_GLOBAL, SCX_SLICE_DFL, EK_ARG(ctx, 1));
}

SEC(".struct_ops.link")
struct sched_ext_ops bad_kfunc_ops = {
	.enqueue = (void *)bad_kfunc_enqueue,
	.name = "bad_kfunc",
};
