/**
 * `promise`, or a rejection naming `what` if it has not settled within `ms`:
 * for a test whose failure would otherwise be a wait (a write that should go
 * at once but waits out a long window), so it fails instead of passing late.
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
