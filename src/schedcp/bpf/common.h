/* edgekernel's BPF scheduler header: everything a sched_ext policy needs beside vmlinux.h.
 *
 * The verifier compiles every policy with this file and the VM kernel's vmlinux.h on the
 * include path, so a submitted policy writes `#include "common.h"` and nothing else. It is
 * self-contained on purpose (no libbpf headers on the verifier's machine): section and map
 * macros, the few BPF helpers the built-ins use, and the sched_ext kfuncs by their Linux >= 6.13
 * names. Tunables are `EK_*` macros, set with -D by the verifier from a policy's parameters.
 */
#pragma once

/* vmlinux.h from bpftool >= 7.5 carries kfunc prototypes that clash with ours. */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"

#define SEC(name) __attribute__((section(name), used))
#define __ksym __attribute__((section(".ksyms")))
#define __always_inline inline __attribute__((always_inline))

/* BTF-defined maps. */
#define __uint(name, val) int(*name)[val]
#define __type(name, val) typeof(val) *name

/* struct_ops callbacks receive their arguments as an array of u64. */
#define EK_OPS(name) SEC("struct_ops/" #name)
#define EK_OPS_SLEEPABLE(name) SEC("struct_ops.s/" #name)
#define EK_ARG(ctx, i) ((ctx)[i])

#define EK_NSEC_PER_USEC 1000ULL
#define EK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EK_MAX(a, b) ((a) > (b) ? (a) : (b))

/* BPF helpers by their stable numbers (include/uapi/linux/bpf.h). */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static void *(*bpf_task_storage_get)(void *map, struct task_struct *task, void *value,
				     u64 flags) = (void *)156;

#define EK_STORAGE_CREATE 1ULL /* BPF_LOCAL_STORAGE_GET_F_CREATE */

/* sched_ext kfuncs (names as of Linux 6.13). */
extern void scx_bpf_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym;
extern void scx_bpf_dsq_insert_vtime(struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime,
				     u64 enq_flags) __ksym;
extern bool scx_bpf_dsq_move_to_local(u64 dsq_id) __ksym;
extern s32 scx_bpf_create_dsq(u64 dsq_id, s32 node) __ksym;
extern s32 scx_bpf_select_cpu_dfl(struct task_struct *p, s32 prev_cpu, u64 wake_flags,
				  bool *is_idle) __ksym;
extern s32 scx_bpf_dsq_nr_queued(u64 dsq_id) __ksym;

/* Wrap-safe "a is before b" for u64 virtual times. */
static __always_inline bool ek_vtime_before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

char _license[] SEC("license") = "GPL";
