import { describe, expect, it } from '@jest/globals';
import { LruCache } from '../../lib/utils/lru-cache.js';

describe('LruCache', () => {
  it('never holds more than maxSize entries', () => {
    const cache = new LruCache<number, number>(100);
    for (let i = 0; i < 10_000; i++) cache.set(i, i, Number.POSITIVE_INFINITY);
    const held = Array.from({ length: 10_000 }, (_, i) => cache.get(i)).filter((v) => v !== undefined);
    expect(held.length).toBeLessThanOrEqual(100);
    expect(cache.get(9_999)).toBe(9_999);
    expect(cache.get(0)).toBeUndefined();
  });

  it('forgets entries once they expire, and does not store one already expired', async () => {
    const cache = new LruCache<string, string>(10);
    cache.set('a', 'A', Date.now() + 50);
    cache.set('b', 'B', Date.now() - 1);
    expect(cache.get('a')).toBe('A');
    expect(cache.get('b')).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(cache.get('a')).toBeUndefined();
  });

  it('bounds the total weight', () => {
    const cache = new LruCache<number, number>(1_000);
    for (let i = 0; i < 100; i++) cache.set(i, i, Date.now() + 60_000, 100);
    expect(cache.size).toBe(10);
    expect(cache.get(99)).toBe(99);
    expect(cache.get(0)).toBeUndefined();
    cache.set(-1, -1, Date.now() + 60_000, 1_001);
    expect(cache.get(-1)).toBeUndefined();
  });

  it('keeps an entry that is used while newer ones push older ones out', () => {
    const cache = new LruCache<number, number>(64);
    cache.set(-1, -1, Number.POSITIVE_INFINITY);
    for (let i = 0; i < 1_000; i++) {
      cache.set(i, i, Number.POSITIVE_INFINITY);
      expect(cache.get(-1)).toBe(-1);
    }
  });

  it('stores nothing with maxSize 0, and clear() empties it', () => {
    const none = new LruCache<string, number>(0);
    none.set('a', 1, Number.POSITIVE_INFINITY);
    expect(none.get('a')).toBeUndefined();
    const cache = new LruCache<string, number>(4);
    cache.set('a', 1, Number.POSITIVE_INFINITY);
    cache.clear();
    expect(cache.get('a')).toBeUndefined();
  });
});
