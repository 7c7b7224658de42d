/** One value per key; a promise that rejects is forgotten so the next call tries again. */
export function memoize<A, T>(
  keyOf: (arg: A) => string,
  create: (arg: A) => T,
): (arg: A) => T {
  const made = new Map<string, T>();
  return arg => {
    const key = keyOf(arg);
    if (!made.has(key)) {
      const value = create(arg);
      made.set(key, value);
      if (value instanceof Promise) {
        value.catch(() => made.delete(key));
      }
    }
    return made.get(key)!;
  };
}
