import { connect } from 'node:net';

/** An answer read straight off the socket; header names lower-cased, every value kept. */
export interface RawResponse {
  status: number;
  headers: Record<string, string[]>;
  body: string;
}

/**
 * Sends a request exactly as given — header values fetch would refuse (CR, LF, NUL, raw bytes), any
 * `Host` — and reads the answer until the server closes the connection.
 */
export function rawRequest(
  baseUrl: string,
  {
    method = 'GET',
    path,
    headers = [],
    body = '',
  }: { method?: string; path: string; headers?: Array<[string, string]>; body?: string },
): Promise<RawResponse> {
  const { hostname, port, host } = new URL(baseUrl);
  const lines = [`${method} ${path} HTTP/1.1`];
  if (!headers.some(([name]) => name.toLowerCase() === 'host')) lines.push(`Host: ${host}`);
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
  lines.push('Connection: close', '', body);

  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => (chunks.length ? undefined : reject(error)));
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      if (!raw) return reject(new Error('connection closed without an answer'));
      resolve(parseResponse(raw));
    });
    // Not `end()`: a half-closed socket makes Node drop a request still being handled.
    socket.write(Buffer.from(lines.join('\r\n'), 'latin1'));
  });
}

function parseResponse(raw: string): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  let body = split === -1 ? '' : raw.slice(split + 4);
  const [statusLine, ...headerLines] = head.split('\r\n');
  const headers: Record<string, string[]> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  if (headers['transfer-encoding']?.includes('chunked')) body = unchunk(body);
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

function unchunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (eol === -1 || !size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
