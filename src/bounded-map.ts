/**
 * A map that never holds more than `limit` entries, whatever its callers are sent: at the limit, the
 * oldest entry makes room for the new one. For caches keyed by what clients send (request targets,
 * tokens), where an unbounded map would let a flood of distinct keys grow memory.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly limit: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    if (this.limit <= 0) return;
    if (!this.entries.has(key) && this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }
}
