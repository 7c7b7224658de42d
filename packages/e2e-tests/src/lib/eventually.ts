/**
 * Retries `probe` until it returns without throwing, for at most `timeoutMs`; rethrows the last
 * failure. For state that converges asynchronously (catalog ingestion, rollouts).
 */
export async function eventually<T>(
  probe: () => Promise<T>,
  { timeoutMs = 60_000, intervalMs = 1_000 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() > deadline) {
        throw error;
      }
    }
    await new Promise(r => setTimeout(r, intervalMs));
  }
}
