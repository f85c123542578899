/**
 * What a WebSocket client receives when its session is refused or over, through every adapter: socket.io's
 * `exception` event or `connect_error`'s `data`, the ws adapter's `{ event: 'exception', data }` message.
 */
export interface CrossmintSocketRefusal {
  /** 401 (no valid session), 503 (Crossmint unreachable), 500 (a socket whose handshake the module cannot read). */
  status: number;
  /** The error's `code`, e.g. `CROSSMINT_AUTHENTICATION_FAILED`, or `CROSSMINT_SESSION_EXPIRED`. */
  code: string;
  message: string;
}
