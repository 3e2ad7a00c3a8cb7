/**
 * Maps `items` through `fn` with at most `limit` calls in flight; results keep
 * the input order. After a call fails, no further item starts; the calls in
 * flight finish, and then the first error is thrown. A caller that cleans up
 * after a failure (discards what it wrote) thus sees every write that will
 * ever happen.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  });
  await Promise.all(lanes);
  if (failure !== undefined) throw failure.error;
  return results;
}
