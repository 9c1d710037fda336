/**
 * Retry policies that delivery tests name in their webhooks: `once` (one
 * attempt, then failed) and `thrice` (three at once, then dead), with a 2 s
 * timeout, so a test sees a delivery end quickly either way.
 */
export const ONCE_AND_THRICE = `
[policies.once]
timeout = "2s"
schedule = ["0s"]
on_exhausted = "failed"

[policies.thrice]
timeout = "2s"
schedule = ["0s", "0s", "0s"]
jitter = 0
on_exhausted = "dead"
`;
