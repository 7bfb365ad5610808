/* Must be REFUSED by the object checks (object-checks.test.ts): calls the allow-list refuses,
 * written the way a header could hide them from the source scan — a helper by its number, a
 * kernel function declared as a kfunc — and compiled by the verifier's compile stage. The
 * static checks refuse this source too; the point here is what the compiled object shows.
 * Self-contained (no common.h, no vmlinux.h) so that the object stays small. */
#define SEC(name) __attribute__((section(name), used))
#define __ksym __attribute__((section(".ksyms")))

typedef unsigned int u32;
typedef int s32;
typedef unsigned long long u64;

/* bpf_send_signal is helper number 109. */
static long (*send_signal)(u32 sig) = (void *)109;
/* Changes CPU frequency targets: not a scheduler's business. */
extern void scx_bpf_cpuperf_set(s32 cpu, u32 perf) __ksym;

SEC("struct_ops/forbidden_enqueue")
int forbidden_enqueue(u64 *ctx)
{
	send_signal(9);
	scx_bpf_cpuperf_set(0, 1024);
	return 0;
}

char _license[] SEC("license") = "Proprietary";
