/** Slots of an empty table; it doubles when three quarters are in use. */
const MIN_SLOTS = 1024;
/** Int32 words a slot: 4 of the digest (128 bits), then its state. */
const SLOT_WORDS = 5;
const DIGEST_WORDS = 4;
/** The state word: in use, marked by a hit since the clock hand last passed, and the entry's weight below. */
const IN_USE = 1 << 30;
const MARKED = 1 << 31;
const WEIGHT = IN_USE - 1;

/**
 * Values by a digest of their key (a 32-character latin1 string, such as `hash('sha256', key, 'binary')`; its first
 * 16 bytes are kept), bounded to a total weight; an entry expires at `expiryOf(value)`. When full, the CLOCK policy
 * picks what to drop, an approximation of least recently used: a hit only marks its entry, and the clock hand
 * spares a marked entry once.
 *
 * Why not a Map and a linked list (`lru-cache`): with a hundred thousand entries taking turns, each hit reaches
 * memory out of the CPU's caches, and a Map entry, its key string and the list's links are as many places. Here a
 * hit mostly reads one 20-byte slot (digest and state side by side), the value's pointer and the value.
 *
 * 128 bits of a SHA-256 are enough for a key: to reach an entry, another key needs the same 128 bits as one stored,
 * a second preimage (about 2^128 tries), not a collision between keys the attacker picks both of.
 */
export class DigestTable<V extends object> {
  private slots = new Int32Array(MIN_SLOTS * SLOT_WORDS);
  private values: Array<V | undefined> = new Array<V | undefined>(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  private hand = 0;
  private weight = 0;
  size = 0;
  /** Entries evicted before they expired, since the table was made: a table too small for its load evicts many. */
  evictedUnexpired = 0;

  constructor(
    private readonly maxWeight: number,
    private readonly expiryOf: (value: V) => number,
  ) {}

  get(digest: string): V | undefined {
    const slot = this.find(digest);
    if (slot < 0) return undefined;
    const value = this.values[slot]!;
    if (this.expiryOf(value) <= Date.now()) {
      this.remove(slot);
      return undefined;
    }
    this.slots[slot * SLOT_WORDS + DIGEST_WORDS] |= MARKED;
    return value;
  }

  /** Stores `value` unless it has expired or weighs more than the whole table (weight: a positive integer). */
  set(digest: string, value: V, weight = 1): void {
    if (!Number.isInteger(weight) || weight < 1 || weight > Math.min(this.maxWeight, WEIGHT)) return;
    if (this.expiryOf(value) <= Date.now()) return;
    const existing = this.find(digest);
    if (existing >= 0) this.remove(existing);
    while (this.weight + weight > this.maxWeight && this.size > 0) this.evict();
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.resize((this.mask + 1) * 2);
    const slot = this.emptySlotFrom(wordOf(digest, 0));
    const at = slot * SLOT_WORDS;
    for (let i = 0; i < DIGEST_WORDS; i++) this.slots[at + i] = wordOf(digest, i);
    // Marked, as a hit would: the clock hand spares a new entry once, as it does a used one.
    this.slots[at + DIGEST_WORDS] = MARKED | IN_USE | weight;
    this.values[slot] = value;
    this.weight += weight;
    this.size++;
  }

  /** Empties the table and keeps its size: after a key rotation, the sessions come back at once. */
  clear(): void {
    this.slots.fill(0);
    this.values.fill(undefined);
    this.hand = this.weight = this.size = 0;
  }

  /** The digest's slot, by linear probing from the slot its first word names; -1 when absent. */
  private find(digest: string): number {
    const { slots, mask } = this;
    const first = wordOf(digest, 0);
    for (let slot = first & mask; ; slot = (slot + 1) & mask) {
      const at = slot * SLOT_WORDS;
      if (slots[at + DIGEST_WORDS] === 0) return -1;
      if (slots[at] === first && sameDigest(slots, at, digest)) return slot;
    }
  }

  /** The first empty slot from the one a digest's first word names (where linear probing puts a new entry). */
  private emptySlotFrom(firstWord: number): number {
    let slot = firstWord & this.mask;
    while (this.slots[slot * SLOT_WORDS + DIGEST_WORDS] !== 0) slot = (slot + 1) & this.mask;
    return slot;
  }

  /** The next entry the clock hand finds expired or unmarked goes; marked ones it passes lose their mark. */
  private evict(): void {
    const now = Date.now();
    for (;;) {
      const slot = this.hand;
      this.hand = (slot + 1) & this.mask;
      const state = this.slots[slot * SLOT_WORDS + DIGEST_WORDS];
      if (state === 0) continue;
      const expired = this.expiryOf(this.values[slot]!) <= now;
      if (state & MARKED && !expired) {
        this.slots[slot * SLOT_WORDS + DIGEST_WORDS] = state & ~MARKED;
        continue;
      }
      if (!expired) this.evictedUnexpired++;
      this.remove(slot);
      return;
    }
  }

  /** Empties a slot, moving back the entries after it that linear probing would no longer reach. */
  private remove(slot: number): void {
    const { slots, values, mask } = this;
    this.weight -= slots[slot * SLOT_WORDS + DIGEST_WORDS] & WEIGHT;
    this.size--;
    let hole = slot;
    for (let next = (slot + 1) & mask; slots[next * SLOT_WORDS + DIGEST_WORDS] !== 0; next = (next + 1) & mask) {
      const home = slots[next * SLOT_WORDS] & mask;
      // It may fill the hole when the hole lies between its home slot and where it is now.
      if (((next - home) & mask) < ((next - hole) & mask)) continue;
      slots.copyWithin(hole * SLOT_WORDS, next * SLOT_WORDS, (next + 1) * SLOT_WORDS);
      values[hole] = values[next];
      hole = next;
    }
    slots.fill(0, hole * SLOT_WORDS, (hole + 1) * SLOT_WORDS);
    values[hole] = undefined;
  }

  private resize(slotCount: number): void {
    const { slots, values } = this;
    this.slots = new Int32Array(slotCount * SLOT_WORDS);
    this.values = new Array<V | undefined>(slotCount);
    this.mask = slotCount - 1;
    this.hand = 0;
    for (let from = 0; from < values.length; from++) {
      if (slots[from * SLOT_WORDS + DIGEST_WORDS] === 0) continue;
      const slot = this.emptySlotFrom(slots[from * SLOT_WORDS]);
      for (let i = 0; i < SLOT_WORDS; i++) this.slots[slot * SLOT_WORDS + i] = slots[from * SLOT_WORDS + i];
      this.values[slot] = values[from];
    }
  }
}

function wordOf(digest: string, i: number): number {
  const at = i * 4;
  return (
    digest.charCodeAt(at) |
    (digest.charCodeAt(at + 1) << 8) |
    (digest.charCodeAt(at + 2) << 16) |
    (digest.charCodeAt(at + 3) << 24)
  );
}

function sameDigest(slots: Int32Array, at: number, digest: string): boolean {
  for (let i = 1; i < DIGEST_WORDS; i++) if (slots[at + i] !== wordOf(digest, i)) return false;
  return true;
}
