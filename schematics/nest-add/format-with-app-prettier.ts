import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Tree } from '@angular-devkit/schematics';

/** The part of Prettier 3's API used here. */
interface Prettier {
  format(source: string, options: Record<string, unknown>): Promise<string>;
  resolveConfig(filePath: string): Promise<Record<string, unknown> | null>;
}

/**
 * Formats the files at `paths` with the app's own Prettier and its config, as the app's
 * `npm run format` would, so that its lint and format checks pass on what was written. Nothing when the app has no
 * Prettier; `root` is the app's folder (`nest add` runs there).
 */
export async function formatWithAppPrettier(tree: Tree, paths: Iterable<string>, root = process.cwd()): Promise<void> {
  const prettier = loadPrettier(root);
  if (!prettier) return;
  for (const path of paths) {
    const source = tree.read(path)?.toString('utf8');
    if (source === undefined) continue;
    const config = (await prettier.resolveConfig(join(root, path))) ?? {};
    const formatted = await prettier.format(source, { ...config, filepath: path });
    if (formatted !== source) tree.overwrite(path, formatted);
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
