/* Must be REJECTED by the kernel verifier: enqueue writes 8 bytes past the end of a map value.
 * (The counters map holds one u64 per entry; index 1 of it is outside the value.) */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

EK_OPS(bad_map_enqueue)
void bad_map_enqueue(u64 *ctx)
{
	u32 key = 0;
	u64 *slot = bpf_map_lookup_elem(&counters, &key);

	if (slot)
		slot[1] += 1; /* out of bounds: value_size is 8, this is bytes 8..15 */
	scx_bpf_dsq_insert((void *)EK_ARG(ctx, 0), SCX_DSQ_GLOBAL, SCX_SLICE_DFL, EK_ARG(ctx, 1));
}

SEC(".struct_ops.link")
struct sched_ext_ops bad_map_ops = {
	.enqueue = (void *)bad_map_enqueue,
	.name = "bad_map",
};
