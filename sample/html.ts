/** Plain server-rendered pages: a layout and escaping, no template engine. */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes a value for HTML text and quoted attributes. Every user-provided value goes through it. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]);
}

/** A value as a JavaScript literal inside an inline `<script>`: `<` is escaped so `</script>` cannot end it. */
export function scriptValue(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function renderPage(page: { title: string; body: string; script?: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)} · nestjs-crossmint-auth sample</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1d2433; background: #f6f7f9; }
  nav { display: flex; gap: 1rem; padding: .75rem 1.5rem; background: #1d2433; }
  nav a { color: #fff; text-decoration: none; }
  main { max-width: 40rem; margin: 2rem auto; padding: 1.5rem 2rem; background: #fff; border-radius: 8px; box-shadow: 0 1px 3px #0002; }
  h1 { font-size: 1.5rem; margin-top: 0; }
  dt { font-weight: 600; } dd { margin: 0 0 .5rem; font-family: ui-monospace, monospace; word-break: break-all; }
  input, button { font: inherit; padding: .4rem .7rem; }
  button { cursor: pointer; }
  pre { background: #f0f2f5; padding: .75rem; overflow-x: auto; }
  .note { color: #5b6477; font-size: .9rem; }
</style>
</head>
<body>
<nav><a href="/account">Account</a><a href="/client">Browser API call</a><a href="/sign-in">Sign in</a></nav>
<main>
${page.body}
</main>
${page.script ? `<script>\n${page.script}\n</script>\n` : ''}</body>
</html>
`;
}
