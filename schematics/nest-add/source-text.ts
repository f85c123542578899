// Small text edits on the TypeScript files `nest new` generates. Plain string work, no TypeScript compiler: the
// schematic then needs nothing at run time beyond Node.

const IMPORT_STATEMENT = /^import\s[^;]*;[^\S\n]*$/gm;

/** Adds `names` to the import from `from`, or a new import line after the last one. */
export function addImport(source: string, names: string[], from: string): string {
  const existing = findNamedImport(source, from);
  if (existing) {
    const missing = names.filter((name) => !existing.names.includes(name));
    if (missing.length === 0) return source;
    const merged = `import { ${[...existing.names, ...missing].join(', ')} } from '${from}';`;
    return source.slice(0, existing.start) + merged + source.slice(existing.end);
  }
  const line = `import { ${names.join(', ')} } from '${from}';`;
  const imports = [...source.matchAll(IMPORT_STATEMENT)];
  const last = imports.at(-1);
  if (!last) return `${line}\n${source}`;
  const end = last.index + last[0].length;
  return `${source.slice(0, end)}\n${line}${source.slice(end)}`;
}

function findNamedImport(source: string, from: string) {
  for (const match of source.matchAll(IMPORT_STATEMENT)) {
    const named = /^import\s*\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/.exec(match[0]);
    if (named?.[2] !== from) continue;
    const names = named[1]
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    return { names, start: match.index, end: match.index + match[0].length };
  }
  return undefined;
}

/**
 * Appends `element` to the `property: [...]` array of the first `@Module({...})`, creating the property when it
 * is missing. Returns undefined when the file has no `@Module({`.
 */
export function addToModuleArray(source: string, property: string, element: string): string | undefined {
  const decorator = source.indexOf('@Module({');
  if (decorator < 0) return undefined;
  const found = new RegExp(`\\b${property}\\s*:\\s*\\[`).exec(source.slice(decorator));
  if (!found) {
    const at = decorator + '@Module({'.length;
    return `${source.slice(0, at)}\n  ${property}: [\n    ${element},\n  ],${source.slice(at)}`;
  }
  const open = decorator + found.index + found[0].length - 1;
  const close = matchingBracket(source, open);
  const inside = source.slice(open + 1, close).trimEnd();
  // A one-line array such as `[AppService]` becomes one item per line.
  const lines = inside.includes('\n') ? inside : inside.trim() && `\n    ${inside.trim()}`;
  const items = lines === '' || lines.endsWith(',') ? lines : `${lines},`;
  return `${source.slice(0, open + 1)}${items}\n    ${element},\n  ${source.slice(close)}`;
}

function matchingBracket(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if ('[({'.includes(source[i])) depth++;
    else if ('])}'.includes(source[i]) && --depth === 0) return i;
  }
  return source.length;
}
