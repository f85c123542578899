import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One ```ts block of a Markdown document. */
export interface DocBlock {
  /** The document, relative to the repository root. */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** The file name in a first-line comment (`// app.module.ts`), which other blocks of the document import. */
  name?: string;
  /** The file named by a `<!-- include: path -->` line just before the block (a blank line between is allowed). */
  include?: string;
}

/** README.md and every Markdown file in docs/, so new docs are checked without registering them. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => `docs/${file}`);
  return ['README.md', ...docs];
}

export function docBlocks(root: string, doc: string): DocBlock[] {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let start = 0; start < lines.length; start++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[start])) continue;
    const end = lines.indexOf('```', start + 1);
    const code = lines.slice(start + 1, end).join('\n') + '\n';
    const name = /^\/\/ ([\w.-]+\.ts)\s*$/.exec(lines[start + 1])?.[1];
    const previous = lines[start - 1] === '' ? lines[start - 2] : lines[start - 1];
    const include = /^<!-- include: (\S+) -->$/.exec(previous ?? '')?.[1];
    blocks.push({ doc, line: start + 1, code, name, include });
    start = end;
  }
  return blocks;
}
