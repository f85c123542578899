import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { SchematicContext, Tree } from '@angular-devkit/schematics';

/** The part of Prettier's API used here (2 and 3: `format` returns a string, then a promise). */
interface Prettier {
  format(source: string, options: Record<string, unknown>): Promise<string> | string;
  resolveConfig(filePath: string, options: { editorconfig: boolean }): Promise<Record<string, unknown> | null>;
}

/**
 * Formats the files at `paths` with the app's own Prettier and its config, as the app's `npm run format` would, so
 * that its lint and format checks pass on what was written. Nothing when the app has no Prettier; `root` is the
 * app's folder (`nest add` runs there).
 */
export async function formatWithAppPrettier(
  tree: Tree,
  context: SchematicContext,
  paths: Iterable<string>,
  root = process.cwd(),
): Promise<void> {
  const prettier = loadPrettier(root);
  if (!prettier) return;
  for (const path of paths) {
    const source = tree.read(path)?.toString('utf8');
    if (source === undefined) continue;
    try {
      const config = (await prettier.resolveConfig(join(root, path), { editorconfig: true })) ?? {};
      const formatted = await prettier.format(source, { ...config, filepath: path });
      if (formatted !== source) tree.overwrite(path, formatted);
    } catch (error) {
      // A broken config or a missing plugin must not undo the rest: the file stays as written.
      context.logger.warn(`${path}: not formatted (${error instanceof Error ? error.message : String(error)}).`);
    }
  }
}

function loadPrettier(root: string): Prettier | undefined {
  try {
    const prettier = createRequire(join(root, 'package.json'))('prettier') as Partial<Prettier>;
    return typeof prettier.format === 'function' && typeof prettier.resolveConfig === 'function'
      ? (prettier as Prettier)
      : undefined;
  } catch {
    return undefined;
  }
}
