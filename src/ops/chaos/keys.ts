// Names shared by the chaos workload's DAGs and the harness that drives them.

/** Key of the external event the harness posts for each run of chaos_deferred. */
export const approvalKey = (runId: string): string => `chaos-approval-${runId}`;
