/**
 * Answers kept for a while, failures never: look-ups of the same key that overlap share one call.
 * `keep` says which answers may be kept (e.g. not "no such user", which may change any moment);
 * at most `maxEntries` are kept, the oldest dropped first, so a stream of new keys costs bounded
 * memory.
 */
export class CachedLookups<V> {
  private readonly cache = new Map<string, { value: V; until: number }>();
  private readonly inFlight = new Map<string, Promise<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly options: { keep?: (value: V) => boolean; maxEntries?: number } = {},
  ) {}

  get(key: string, fetch: () => Promise<V>): Promise<V> {
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return Promise.resolve(hit.value);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const started = fetch()
      .then((value) => {
        if (this.options.keep?.(value) ?? true) this.remember(key, value);
        return value;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  private remember(key: string, value: V): void {
    this.cache.delete(key);
    this.cache.set(key, { value, until: this.now() + this.ttlMs });
    const max = this.options.maxEntries ?? 10_000;
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= max) break;
      this.cache.delete(oldest);
    }
  }
}
