import { MAX_TIMER_DELAY_MS } from '../crossmint-auth.constants.js';

/** One timer per connection: a socket's guarded messages all carry the same handshake, hence the same `exp`. */
const timers = new WeakMap<object, NodeJS.Timeout>();

/**
 * Runs `close` when the JWT expiring at `expSec` (seconds) does, unless the connection goes first: `onGone`
 * registers the listener that clears the timer. The timer is unref'd, so it never holds the process open.
 */
export function closeAtExpiry(
  connection: object,
  expSec: number,
  close: () => void,
  onGone: (listener: () => void) => void,
): void {
  if (timers.has(connection)) return;
  const delay = Math.min(Math.max(0, expSec * 1000 - Date.now()), MAX_TIMER_DELAY_MS);
  const timer = setTimeout(() => {
    timers.delete(connection);
    close();
  }, delay);
  timer.unref();
  timers.set(connection, timer);
  onGone(() => {
    clearTimeout(timer);
    timers.delete(connection);
  });
}

/** Whether a connection has a pending expiry timer (for tests of leaks). */
export function hasExpiryTimer(connection: object): boolean {
  return timers.has(connection);
}
