import { MAX_RESPONSE_BYTES } from '../crossmint-auth.constants.js';
import type {
  CrossmintHttpClient,
  CrossmintHttpRequest,
  CrossmintHttpResponse,
} from '../interfaces/crossmint-http-client.interface.js';

/** The default client: the platform's `fetch`, aborted after `timeoutMs`, body size capped. */
export class FetchCrossmintHttpClient implements CrossmintHttpClient {
  async request({ method, url, headers, body, timeoutMs }: CrossmintHttpRequest): Promise<CrossmintHttpResponse> {
    const signal = AbortSignal.timeout(timeoutMs);
    const response = await fetch(url, { method, headers, body, signal, redirect: 'error' });
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => (responseHeaders[name] = value));
    return { status: response.status, body: await readCapped(response), headers: responseHeaders };
  }
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new Error(`Crossmint response exceeded ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
