import { hash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { DigestTable } from '../../lib/utils/digest-table.js';

const digestOf = (key: string | number) => hash('sha256', String(key), 'binary');
const later = () => Date.now() + 60_000;

interface Entry {
  id: number;
  until: number;
}

/** A table whose entries expire at their `until`. */
const createTable = (maxWeight: number) => new DigestTable<Entry>(maxWeight, (entry) => entry.until);

describe('DigestTable', () => {
  it('finds every entry it holds, through growth', () => {
    const table = createTable(Number.MAX_SAFE_INTEGER);
    for (let id = 0; id < 20_000; id++) table.set(digestOf(id), { id, until: later() });
    expect(table.size).toBe(20_000);
    for (let id = 0; id < 20_000; id++) expect(table.get(digestOf(id))?.id).toBe(id);
    expect(table.get(digestOf('absent'))).toBeUndefined();

    // Storing a key again replaces its entry.
    table.set(digestOf(7), { id: -7, until: later() });
    expect(table.size).toBe(20_000);
    expect(table.get(digestOf(7))?.id).toBe(-7);
  });

  it('keeps entries reachable when removals move others back along their probe sequence', async () => {
    // A small table full of colliding neighbours: expiring every third entry exercises the backward shift.
    const table = createTable(Number.MAX_SAFE_INTEGER);
    const soon = Date.now() + 30;
    for (let id = 0; id < 700; id++) table.set(digestOf(id), { id, until: id % 3 ? later() : soon });
    await new Promise((resolve) => setTimeout(resolve, 60));
    for (let id = 0; id < 700; id += 3) expect(table.get(digestOf(id))).toBeUndefined();
    for (let id = 0; id < 700; id++) if (id % 3) expect(table.get(digestOf(id))?.id).toBe(id);
    expect(table.size).toBe(700 - Math.ceil(700 / 3));
  });

  it('compares the whole kept digest: a digest differing in its last kept byte is another key', () => {
    const table = createTable(10);
    const digest = digestOf('a');
    table.set(digest, { id: 1, until: later() });
    const other = digest.slice(0, 15) + String.fromCharCode(digest.charCodeAt(15) ^ 1) + digest.slice(16);
    expect(table.get(other)).toBeUndefined();
    const sameFirstWord = digest.slice(0, 4) + digestOf('b').slice(4);
    expect(table.get(sameFirstWord)).toBeUndefined();
    expect(table.get(digest)?.id).toBe(1);
  });

  it('forgets an entry at its expiry, and does not store one already expired', async () => {
    const table = createTable(10);
    table.set(digestOf('soon'), { id: 1, until: Date.now() + 30 });
    table.set(digestOf('past'), { id: 2, until: Date.now() - 1 });
    expect(table.get(digestOf('soon'))?.id).toBe(1);
    expect(table.get(digestOf('past'))).toBeUndefined();
    expect(table.size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(table.get(digestOf('soon'))).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it('bounds the total weight, and counts the entries it evicted before they expired', () => {
    const table = createTable(1_000);
    for (let id = 0; id < 100; id++) table.set(digestOf(id), { id, until: later() }, 100);
    expect(table.size).toBe(10);
    expect(table.get(digestOf(99))?.id).toBe(99);
    expect(table.evictedUnexpired).toBe(90);
    table.set(digestOf('heavy'), { id: -1, until: later() }, 1_001);
    expect(table.get(digestOf('heavy'))).toBeUndefined();
    expect(table.size).toBe(10);
  });

  it('does not count an entry evicted after its expiry as evicted early', async () => {
    const table = createTable(1);
    table.set(digestOf('brief'), { id: 1, until: Date.now() + 20 });
    await new Promise((resolve) => setTimeout(resolve, 40));
    table.set(digestOf('next'), { id: 2, until: later() });
    expect(table.get(digestOf('brief'))).toBeUndefined();
    expect(table.evictedUnexpired).toBe(0);
  });

  it('spares the entries found since the clock hand last passed them: a busy session outlives a stream of new ones', () => {
    const table = createTable(64);
    const busy = Array.from({ length: 16 }, (_, id) => ({ id, until: later() }));
    for (const entry of busy) table.set(digestOf(entry.id), entry);
    for (let id = 1_000; id < 11_000; id++) {
      table.set(digestOf(id), { id, until: later() });
      for (const entry of busy) expect(table.get(digestOf(entry.id))).toBe(entry);
    }
    expect(table.size).toBe(64);
  });

  it('evicts expired entries first, even those found since the clock hand last passed', async () => {
    const table = createTable(20);
    for (let id = 0; id < 20; id++) table.set(digestOf(id), { id, until: id < 10 ? Date.now() + 20 : later() });
    for (let id = 0; id < 20; id++) table.get(digestOf(id));
    await new Promise((resolve) => setTimeout(resolve, 40));
    for (let id = 100; id < 110; id++) table.set(digestOf(id), { id, until: later() });
    for (let id = 10; id < 20; id++) expect(table.get(digestOf(id))?.id).toBe(id);
    expect(table.evictedUnexpired).toBe(0);
  });

  it('refuses a weight that is not a positive integer', () => {
    const table = createTable(10);
    for (const weight of [0.5, Number.NaN, 0, -1]) table.set(digestOf(weight), { id: 1, until: later() }, weight);
    expect(table.size).toBe(0);
    table.set(digestOf('whole'), { id: 2, until: later() }, 10);
    expect(table.get(digestOf('whole'))?.id).toBe(2);
  });

  it('holds nothing with a weight bound of 0, and clear() empties it', () => {
    const none = createTable(0);
    none.set(digestOf('a'), { id: 1, until: later() });
    expect(none.get(digestOf('a'))).toBeUndefined();
    const table = createTable(4);
    table.set(digestOf('a'), { id: 1, until: later() });
    table.clear();
    expect(table.get(digestOf('a'))).toBeUndefined();
    expect(table.size).toBe(0);
    table.set(digestOf('b'), { id: 2, until: later() });
    expect(table.get(digestOf('b'))?.id).toBe(2);
  });
});
