export interface CrossmintHttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The module's `timeoutMs`; an implementation must give up (reject) once it has passed. */
  timeoutMs: number;
}

export interface CrossmintHttpResponse {
  status: number;
  /** Raw response body; the caller parses and validates it. */
  body: string;
  /** Response headers by lower-case name, when the client reports them; the module reads `retry-after`. */
  headers?: Record<string, string>;
}

/**
 * Every call to Crossmint (JWKS, refresh, logout, user) goes through this client, so it can be swapped
 * for a proxy, tracing or tests with the `httpClient` option or the `CROSSMINT_HTTP_CLIENT` token.
 * Reject on network errors and timeouts; resolve for any HTTP status.
 */
export interface CrossmintHttpClient {
  request(request: CrossmintHttpRequest): Promise<CrossmintHttpResponse>;
}
