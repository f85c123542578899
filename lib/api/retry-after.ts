import { MAX_RETRY_AFTER_SEC } from '../crossmint-auth.constants.js';

/**
 * A `Retry-After` header (a delay in seconds, or an HTTP date) as whole seconds from `now`, between 1 and
 * MAX_RETRY_AFTER_SEC; undefined when there is none or it cannot be read.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  let seconds = NaN;
  if (/^\d+$/.test(trimmed)) seconds = Number(trimmed);
  // HTTP dates always name the day and the month; a bare number with a dot is no date.
  else if (/[a-z]/i.test(trimmed)) seconds = Math.ceil((Date.parse(trimmed) - now) / 1000);
  return Number.isFinite(seconds) ? Math.min(Math.max(seconds, 1), MAX_RETRY_AFTER_SEC) : undefined;
}
