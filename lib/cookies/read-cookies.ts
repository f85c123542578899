/**
 * The values of the cookies `names` in a `Cookie` header, still encoded, in the order of `names` (undefined for
 * those it does not carry): what `cookie.parse(header)[name]` gives for each (same splitting, trimming and
 * first-wins rule; a property test holds them equal), in one pass that builds no object of every cookie in the
 * header. On the guard's hot path that object cost more than everything else it does to read the credentials.
 * `names` are cookie names (RFC 6265 tokens).
 */
export function readCookies(header: string, names: readonly string[]): Array<string | undefined> {
  const values = new Array<string | undefined>(names.length);
  const length = header.length;
  // The shortest cookie pair is a one-character name and '='.
  if (length < 2) return values;
  let index = 0;
  while (index < length) {
    const eq = header.indexOf('=', index);
    if (eq === -1) break;
    const semicolon = header.indexOf(';', index);
    const end = semicolon === -1 ? length : semicolon;
    if (eq > end) {
      // This pair has no '=': go on from the pair that holds the next one.
      index = header.lastIndexOf(';', eq - 1) + 1;
      continue;
    }
    const keyStart = skipBlanks(header, index, eq);
    const keyLength = trimBlanks(header, keyStart, eq) - keyStart;
    for (let i = 0; i < names.length; i++) {
      if (values[i] === undefined && names[i].length === keyLength && header.startsWith(names[i], keyStart)) {
        const valueStart = skipBlanks(header, eq + 1, end);
        values[i] = header.slice(valueStart, trimBlanks(header, valueStart, end));
      }
    }
    index = end + 1;
  }
  return values;
}

/** The first index from `start` (up to `end`) that is not a space or a tab. */
function skipBlanks(text: string, start: number, end: number): number {
  while (start < end && isBlank(text.charCodeAt(start))) start++;
  return start;
}

/** `end` moved back (down to `start`) past the spaces and tabs that end text[start, end). */
function trimBlanks(text: string, start: number, end: number): number {
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  return end;
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
