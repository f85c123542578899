import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConcurrencyLimit } from '../../lib/utils/concurrency-limit.js';

describe('ConcurrencyLimit', () => {
  it('gives at most `limit` turns at once', async () => {
    const limit = new ConcurrencyLimit(2);
    let holding = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const release = await limit.acquire();
        most = Math.max(most, ++holding);
        await sleep(5);
        holding--;
        release();
      }),
    );
    expect(most).toBe(2);
  });

  it('hands a turn given back to the waiter that came first', async () => {
    const limit = new ConcurrencyLimit(1);
    const first = await limit.acquire();
    const served: number[] = [];
    const waiters = [0, 1, 2].map((i) =>
      limit.acquire().then((release) => {
        served.push(i);
        return release;
      }),
    );
    await sleep(5);
    expect(served).toEqual([]);
    first();
    (await waiters[0])();
    (await waiters[1])();
    (await waiters[2])();
    expect(served).toEqual([0, 1, 2]);
  });

  it('counts a turn given back twice once', async () => {
    const limit = new ConcurrencyLimit(1);
    const release = await limit.acquire();
    release();
    release();
    await limit.acquire();
    let second = false;
    void limit.acquire().then(() => (second = true));
    await sleep(5);
    expect(second).toBe(false);
  });

  it('drains a long queue in order', async () => {
    const limit = new ConcurrencyLimit(1);
    const served: number[] = [];
    await Promise.all(
      Array.from({ length: 5000 }, async (_, i) => {
        const release = await limit.acquire();
        served.push(i);
        release();
      }),
    );
    expect(served).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});
