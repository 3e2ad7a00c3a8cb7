/**
 * Values kept in this process's memory until a given instant: what a warm
 * Lambda execution environment can keep between invocations. Each entry names
 * its own end (`until`, epoch ms) and is never answered at or after it; the
 * entries whose end has come, then the least recently used, make room when
 * the entry or byte bound would be passed.
 *
 * It is a copy, local to one environment: nothing tells it that the source of
 * a value changed. Keep in it only what may be served unchanged until
 * `until` (a result still fresh), and `delete` what this environment itself
 * changes. Other environments keep their copies until their own `until`.
 */

export interface MemoryCacheOptions {
  /** At most this many entries (entries past their end go first, then the least recently used). @default 1000 */
  readonly maxEntries?: number;
  /** At most this many bytes, as the callers size their entries (the same order of going). @default 16 MiB */
  readonly maxBytes?: number;
  /** Clock in epoch milliseconds, read at every call. @default Date.now */
  readonly now?: () => number;
}

export const MEMORY_CACHE_DEFAULTS = {
  maxEntries: 1000,
  maxBytes: 16 * 1024 * 1024,
} as const;

interface Entry<V> {
  readonly value: V;
  readonly until: number;
  readonly bytes: number;
}

export class MemoryCache<V> {
  /** Insertion order is recency: a hit moves its key to the end, eviction takes from the front. */
  private readonly entries = new Map<string, Entry<V>>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly clock: () => number;
  private held = 0;

  constructor(options: MemoryCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? MEMORY_CACHE_DEFAULTS.maxEntries;
    this.maxBytes = options.maxBytes ?? MEMORY_CACHE_DEFAULTS.maxBytes;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a whole number of at least 1 (got ${this.maxEntries})`);
    }
    if (!Number.isInteger(this.maxBytes) || this.maxBytes < 1) {
      throw new RangeError(`maxBytes must be a whole number of at least 1 (got ${this.maxBytes})`);
    }
    // Read at each call, not captured: a clock set later (the local runtime's skew) applies too.
    this.clock = options.now ?? (() => Date.now());
  }

  /** The value of `key` while its `until` is still ahead; an entry whose end has come is dropped. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (this.clock() >= entry.until) {
      this.held -= entry.bytes;
      return undefined;
    }
    this.entries.set(key, entry);
    return entry.value;
  }

  /**
   * Keeps `value` under `key` until `until` (epoch ms, exclusive), replacing
   * what the key held. Returns false, keeping nothing for the key, when
   * `until` has already come or the entry alone is over `maxBytes`.
   */
  set(key: string, value: V, until: number, bytes: number): boolean {
    this.delete(key);
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`bytes must be a finite, non-negative size (got ${bytes})`);
    const now = this.clock();
    if (until <= now || bytes > this.maxBytes) return false;
    const full = () => this.entries.size >= this.maxEntries || this.held + bytes > this.maxBytes;
    // Room is made from entries whose end has come first, then from the least recently used.
    if (full()) for (const [k, e] of this.entries) if (e.until <= now) this.delete(k);
    while (full()) this.evictOldest();
    this.entries.set(key, { value, until, bytes });
    this.held += bytes;
    return true;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.held -= entry.bytes;
  }

  /** Entries held now (some may have passed their end and not yet been dropped). */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes held now, as the callers sized their entries. */
  get bytes(): number {
    return this.held;
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (oldest.done === true) return;
    this.delete(oldest.value);
  }
}
