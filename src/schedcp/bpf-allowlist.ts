/**
 * What a policy's BPF C may call and include. Least privilege: a scheduler needs to queue
 * tasks, pick CPUs, keep per-task and per-CPU state and read the clock; it never needs to touch
 * user memory, signal processes, change other kernel functions or load more BPF. Everything
 * not listed here is refused, and the entries most worth a clear explanation are refused by
 * name with the reason (`FORBIDDEN_CALLEES`).
 *
 * Names are those of Linux ≥ 6.13 (the sched_ext kfuncs were renamed then: `scx_bpf_dispatch`
 * became `scx_bpf_dsq_insert`); the verifier's VM runs a 7.x kernel.
 */

export interface AllowedCallee {
  /** A BPF helper (called by number), a kfunc (resolved by BTF), or a macro the headers define. */
  kind: "helper" | "kfunc" | "macro";
  /** A helper's number in the kernel's UAPI (`enum bpf_func_id`, include/uapi/linux/bpf.h). */
  helperId?: number;
  /** Why a scheduler needs it. */
  why: string;
}

const helper = (helperId: number, why: string): AllowedCallee => ({
  kind: "helper",
  helperId,
  why,
});
const kfunc = (why: string): AllowedCallee => ({ kind: "kfunc", why });
const macro = (why: string): AllowedCallee => ({ kind: "macro", why });

export const ALLOWED_CALLEES: Readonly<Record<string, AllowedCallee>> = {
  // BPF helpers (ids from enum bpf_func_id)
  bpf_map_lookup_elem: helper(1, "per-task, per-CPU and global state lives in maps"),
  bpf_map_update_elem: helper(2, "per-task, per-CPU and global state lives in maps"),
  bpf_map_delete_elem: helper(3, "drop a task's state when it exits"),
  bpf_ktime_get_ns: helper(5, "the clock for virtual time and slice accounting"),
  bpf_get_prandom_u32: helper(7, "random choices, e.g. power-of-two-choices CPU selection"),
  bpf_get_smp_processor_id: helper(8, "the CPU the callback runs on"),
  bpf_get_numa_node_id: helper(42, "the NUMA node of the current CPU, for node-local queues"),
  bpf_map_push_elem: helper(87, "queue and stack maps as task lists"),
  bpf_map_pop_elem: helper(88, "queue and stack maps as task lists"),
  bpf_map_peek_elem: helper(89, "queue and stack maps as task lists"),
  bpf_spin_lock: helper(93, "protect a shared map value updated from several CPUs"),
  bpf_spin_unlock: helper(94, "protect a shared map value updated from several CPUs"),
  bpf_jiffies64: helper(118, "a cheap coarse clock"),
  bpf_task_storage_get: helper(156, "per-task scheduler state (weights, vtime, wake counts)"),
  bpf_task_storage_delete: helper(157, "per-task scheduler state (weights, vtime, wake counts)"),
  bpf_get_current_task_btf: helper(158, "the running task, as a typed (verifier-checked) pointer"),
  bpf_for_each_map_elem: helper(164, "walk a map of CPUs or queues with a bounded callback"),
  bpf_timer_init: helper(169, "periodic rebalancing and load tracking"),
  bpf_timer_set_callback: helper(170, "periodic rebalancing and load tracking"),
  bpf_timer_start: helper(171, "periodic rebalancing and load tracking"),
  bpf_timer_cancel: helper(172, "periodic rebalancing and load tracking"),
  bpf_loop: helper(181, "bounded loops over CPUs or queues the verifier accepts"),
  bpf_kptr_xchg: helper(194, "keep an allocated cpumask in a map"),
  bpf_map_lookup_percpu_elem: helper(195, "read another CPU's per-CPU state"),

  // sched_ext kfuncs (kernel/sched/ext.c)
  scx_bpf_select_cpu_dfl: kfunc("the kernel's default idle-CPU picker"),
  scx_bpf_select_cpu_and: kfunc("the default idle-CPU picker within a cpumask (Linux ≥ 6.16)"),
  scx_bpf_dsq_insert: kfunc("queue a task on a dispatch queue (FIFO)"),
  scx_bpf_dsq_insert_vtime: kfunc("queue a task on a dispatch queue ordered by virtual time"),
  scx_bpf_dsq_move_to_local: kfunc("move the head of a dispatch queue to this CPU"),
  scx_bpf_dsq_move: kfunc("move a task found by a DSQ iterator to another queue"),
  scx_bpf_dsq_move_vtime: kfunc("move a task found by a DSQ iterator, by virtual time"),
  scx_bpf_dsq_move_set_slice: kfunc("set the slice of a task being moved"),
  scx_bpf_dsq_move_set_vtime: kfunc("set the virtual time of a task being moved"),
  scx_bpf_dispatch_nr_slots: kfunc("how many more tasks this dispatch may queue"),
  scx_bpf_dispatch_cancel: kfunc("undo the latest insert in this dispatch"),
  scx_bpf_create_dsq: kfunc("create the policy's own dispatch queues"),
  scx_bpf_destroy_dsq: kfunc("destroy a dispatch queue the policy created"),
  scx_bpf_dsq_nr_queued: kfunc("how many tasks wait on a queue"),
  scx_bpf_reenqueue_local: kfunc("give back queued tasks when a higher class takes the CPU"),
  scx_bpf_kick_cpu: kfunc("wake or preempt a CPU so it picks up new work"),
  scx_bpf_test_and_clear_cpu_idle: kfunc("claim an idle CPU"),
  scx_bpf_pick_idle_cpu: kfunc("find and claim an idle CPU in a mask"),
  scx_bpf_pick_any_cpu: kfunc("an idle CPU in a mask, else any"),
  scx_bpf_get_idle_cpumask: kfunc("read the idle CPUs"),
  scx_bpf_get_idle_smtmask: kfunc("read the fully idle SMT cores"),
  scx_bpf_put_idle_cpumask: kfunc("release the idle mask read above"),
  scx_bpf_get_online_cpumask: kfunc("read the online CPUs"),
  scx_bpf_get_possible_cpumask: kfunc("read the possible CPUs"),
  scx_bpf_put_cpumask: kfunc("release a cpumask read above"),
  scx_bpf_nr_cpu_ids: kfunc("the number of CPU ids, to bound loops"),
  scx_bpf_nr_node_ids: kfunc("the number of NUMA node ids, to bound loops"),
  scx_bpf_task_running: kfunc("whether a task is on a CPU now"),
  scx_bpf_task_cpu: kfunc("the CPU a task is on or last ran on"),
  scx_bpf_cpuperf_cap: kfunc("a CPU's relative capacity (big.LITTLE)"),
  scx_bpf_cpuperf_cur: kfunc("a CPU's current performance level"),
  scx_bpf_now: kfunc("the scheduler clock, cheaper than bpf_ktime_get_ns (Linux ≥ 6.14)"),
  scx_bpf_error_bstr: kfunc(
    "abort the scheduler with a message: the kernel falls back to its default",
  ),
  scx_bpf_exit_bstr: kfunc(
    "leave with an exit code and a message: the kernel falls back to its default",
  ),
  bpf_iter_scx_dsq_new: kfunc("iterate over a dispatch queue"),
  bpf_iter_scx_dsq_next: kfunc("iterate over a dispatch queue"),
  bpf_iter_scx_dsq_destroy: kfunc("iterate over a dispatch queue"),
  // generic kfuncs schedulers use
  bpf_cpumask_create: kfunc("a cpumask of the policy's own (e.g. the CPUs of a domain)"),
  bpf_cpumask_acquire: kfunc("take a reference on a cpumask"),
  bpf_cpumask_release: kfunc("drop a reference on a cpumask"),
  bpf_cpumask_set_cpu: kfunc("edit a cpumask"),
  bpf_cpumask_clear_cpu: kfunc("edit a cpumask"),
  bpf_cpumask_test_cpu: kfunc("read a cpumask"),
  bpf_cpumask_test_and_set_cpu: kfunc("edit a cpumask"),
  bpf_cpumask_clear: kfunc("edit a cpumask"),
  bpf_cpumask_copy: kfunc("edit a cpumask"),
  bpf_cpumask_and: kfunc("combine cpumasks"),
  bpf_cpumask_or: kfunc("combine cpumasks"),
  bpf_cpumask_first: kfunc("read a cpumask"),
  bpf_cpumask_weight: kfunc("read a cpumask"),
  bpf_cpumask_empty: kfunc("read a cpumask"),
  bpf_cpumask_intersects: kfunc("read a cpumask"),
  bpf_cpumask_subset: kfunc("read a cpumask"),
  bpf_cpumask_any_distribute: kfunc("spread choices over a cpumask"),
  bpf_cpumask_any_and_distribute: kfunc("spread choices over two cpumasks"),
  bpf_rcu_read_lock: kfunc("read RCU-protected kernel objects (cpumasks in maps)"),
  bpf_rcu_read_unlock: kfunc("read RCU-protected kernel objects (cpumasks in maps)"),
  bpf_iter_num_new: kfunc("bounded numeric loops (libbpf's bpf_for)"),
  bpf_iter_num_next: kfunc("bounded numeric loops (libbpf's bpf_for)"),
  bpf_iter_num_destroy: kfunc("bounded numeric loops (libbpf's bpf_for)"),

  // macros of the allowed headers that expand only to the calls above
  scx_bpf_error: macro("formats a message for scx_bpf_error_bstr"),
  scx_bpf_exit: macro("formats a message for scx_bpf_exit_bstr"),
  bpf_for: macro("libbpf's bounded loop over bpf_iter_num"),
  bpf_repeat: macro("libbpf's bounded loop over bpf_iter_num"),
};

/**
 * Refused by name, with the reason: what a scheduler has no business doing, and the old names
 * a policy written for an older kernel might use.
 */
export const FORBIDDEN_CALLEES: Readonly<Record<string, string>> = {
  bpf_probe_write_user: "writes into the memory of whatever user process happens to run",
  bpf_override_return: "changes the return value of a kernel function",
  bpf_send_signal: "sends a signal (a kill) to the running process",
  bpf_send_signal_thread: "sends a signal (a kill) to the running thread",
  bpf_sys_bpf: "runs bpf() commands: loads further programs or changes maps behind the verifier",
  bpf_sys_close: "closes file descriptors of the loading process",
  bpf_kallsyms_lookup_name: "looks up kernel symbol addresses",
  bpf_probe_read: "reads arbitrary memory; struct_ops arguments are typed, read them directly",
  bpf_probe_read_str: "reads arbitrary memory; struct_ops arguments are typed, read them directly",
  bpf_probe_read_kernel:
    "reads arbitrary kernel memory; struct_ops arguments are typed, read them directly",
  bpf_probe_read_kernel_str: "reads arbitrary kernel memory",
  bpf_probe_read_user: "reads the memory of whatever user process happens to run",
  bpf_probe_read_user_str: "reads the memory of whatever user process happens to run",
  bpf_copy_from_user: "reads user memory",
  bpf_copy_from_user_task: "reads another task's user memory",
  bpf_d_path: "reads file paths of the running process",
  bpf_get_current_task: "an untyped kernel pointer; use bpf_get_current_task_btf",
  bpf_tail_call: "jumps to a program outside the verified object",
  bpf_trace_printk: "writes the shared trace pipe from scheduler hot paths",
  bpf_printk: "writes the shared trace pipe from scheduler hot paths",
  bpf_trace_vprintk: "writes the shared trace pipe from scheduler hot paths",
  bpf_perf_event_output: "a channel to user space nothing on the node reads",
  bpf_ringbuf_output: "a channel to user space nothing on the node reads",
  bpf_ringbuf_reserve: "a channel to user space nothing on the node reads",
  bpf_task_from_pid: "looks up any task in the system by pid",
  scx_bpf_cpuperf_set: "changes CPU frequency targets, beyond scheduling",
  scx_bpf_cpu_rq: "exposes a CPU's run queue internals",
  scx_bpf_dispatch: "renamed scx_bpf_dsq_insert in Linux 6.13; the old name is gone",
  scx_bpf_dispatch_vtime: "renamed scx_bpf_dsq_insert_vtime in Linux 6.13; the old name is gone",
  scx_bpf_consume: "renamed scx_bpf_dsq_move_to_local in Linux 6.13; the old name is gone",
};

/**
 * The licenses the kernel counts as GPL-compatible (`license_is_gpl_compatible()`): sched_ext's
 * kfuncs and struct_ops programs need one.
 */
export const GPL_COMPATIBLE_LICENSES: ReadonlySet<string> = new Set([
  "GPL",
  "GPL v2",
  "GPL and additional rights",
  "Dual BSD/GPL",
  "Dual MIT/GPL",
  "Dual MPL/GPL",
]);

/** Names in these namespaces are helpers or kfuncs: one not listed above is refused. */
export const RESERVED_CALLEE_PREFIXES = ["bpf_", "scx_bpf_"] as const;

/**
 * Headers a policy may include. Nothing else: a header is code the scan does not see.
 */
export const ALLOWED_INCLUDES: Readonly<Record<string, string>> = {
  "vmlinux.h": "the kernel's types, generated from its BTF",
  "common.h": "the project's own declarations of the allowed kfuncs and macros",
  "bpf/bpf_helpers.h": "libbpf: SEC(), __uint(), __type() and the helper declarations",
  "bpf/bpf_helper_defs.h": "libbpf: the helper declarations bpf_helpers.h includes",
  "bpf/bpf_tracing.h": "libbpf: BPF_PROG() argument unpacking",
  "bpf/bpf_core_read.h": "libbpf: CO-RE field access",
  "bpf/bpf_endian.h": "libbpf: byte-order conversions",
};

/**
 * Compiler builtins a policy may call: atomics and hints the BPF backend lowers to plain
 * instructions, and CO-RE relocations. Prefix entries end with `*`.
 */
export const ALLOWED_BUILTINS: readonly string[] = [
  "__sync_*",
  "__atomic_*",
  "__builtin_expect",
  "__builtin_memcpy",
  "__builtin_memset",
  "__builtin_memcmp",
  "__builtin_constant_p",
  "__builtin_offsetof",
  "__builtin_unreachable",
  "__builtin_ctz",
  "__builtin_ctzl",
  "__builtin_ctzll",
  "__builtin_clz",
  "__builtin_clzl",
  "__builtin_clzll",
  "__builtin_popcount",
  "__builtin_popcountl",
  "__builtin_popcountll",
  "__builtin_preserve_access_index",
  "__builtin_preserve_field_info",
  "__builtin_preserve_type_info",
  "__builtin_preserve_enum_value",
  "__builtin_btf_type_id",
];

/**
 * Macros libbpf's allowed headers define that a policy may use like functions. The checks learn
 * those of the project's own `common.h` from its text (`trustedHeaders`, common.h by default).
 */
export const HEADER_MACROS: readonly string[] = [
  "SEC",
  "__uint",
  "__type",
  "__array",
  "__ulong",
  "__ksym",
  "__kconfig",
  "__weak",
  "__always_inline",
  "__noinline",
  "likely",
  "unlikely",
  "barrier",
  "barrier_var",
  "offsetof",
  "container_of",
  "BPF_PROG",
  "BPF_STRUCT_OPS",
  "BPF_STRUCT_OPS_SLEEPABLE",
  "READ_ONCE",
  "WRITE_ONCE",
  "bpf_ksym_exists",
  "bpf_core_field_exists",
  "bpf_core_type_exists",
  "bpf_core_enum_value_exists",
  "bpf_core_enum_value",
  "bpf_htons",
  "bpf_ntohs",
  "bpf_htonl",
  "bpf_ntohl",
  "bpf_cpu_to_be64",
  "bpf_be64_to_cpu",
];

/** Whether `name` is an allowed builtin. */
export function isAllowedBuiltin(name: string): boolean {
  return ALLOWED_BUILTINS.some((b) =>
    b.endsWith("*") ? name.startsWith(b.slice(0, -1)) : b === name,
  );
}
