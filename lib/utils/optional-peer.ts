/**
 * An optional peer dependency, or undefined when it is not installed. `import()` is compiled to `require` in the
 * CommonJS build, which a CommonJS jest suite needs (its `import()` fails without --experimental-vm-modules), and
 * stays `import()` in the ESM build; neither build needs `import.meta` or `__filename`.
 */
export async function loadOptionalPeer<T>(name: string): Promise<T | undefined> {
  try {
    return (await import(name)) as T;
  } catch {
    return undefined;
  }
}
