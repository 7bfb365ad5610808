/**
 * The system calls of the scheduler control plane, by capability, with the risk each carries:
 * observing the fleet and reading the repository are low, submitting and verifying a policy
 * (nothing reaches a production kernel) and recording an outcome are medium, and starting a
 * rollout is high, so the default policy `high-risk-needs-approval` puts a person in the loop
 * before any node runs an agent's choice. Stopping or rolling back a rollout takes policies off
 * nodes: medium. The capability registry is seeded with these by migration 0018; a test holds
 * the two to each other.
 */

export const SCHED_CAPABILITIES = {
  /** List the fleet's nodes, read their telemetry, deploy history and workload profiles. */
  observe: "fleet.observe",
  /** Search and read policies, versions, verification results, history, recommendations. */
  read: "sched.read",
  /** Submit a policy or a new version (the static checks run at once). */
  submit: "sched.submit",
  /** Send a checked version to a verifier node. */
  verify: "sched.verify",
  /** Record how a version did on a node or a group. */
  record: "sched.record",
  /** Start a rollout of a signed version (canaries first). */
  deploy: "sched.deploy",
  /** Stop a rollout, or roll it back. */
  rollback: "sched.rollback",
} as const;

export type SchedCapability = (typeof SCHED_CAPABILITIES)[keyof typeof SCHED_CAPABILITIES];

/** Each capability's risk, as the registry holds it. */
export const SCHED_CAPABILITY_RISK: Readonly<Record<SchedCapability, "low" | "medium" | "high">> = {
  "fleet.observe": "low",
  "sched.read": "low",
  "sched.submit": "medium",
  "sched.verify": "medium",
  "sched.record": "medium",
  "sched.deploy": "high",
  "sched.rollback": "medium",
};
