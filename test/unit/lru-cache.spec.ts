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

  it('forgets entries once they expire', () => {
    const cache = new LruCache<string, string>(10);
    cache.set('a', 'A', 1_000);
    expect(cache.get('a', 999)).toBe('A');
    expect(cache.get('a', 1_000)).toBeUndefined();
    expect(cache.get('a', 0)).toBeUndefined();
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
