import type { CrossmintSocketRefusal } from '../interfaces/crossmint-socket-refusal.interface.js';
import type { RequestLike } from '../interfaces/http-message.interface.js';

// Reading the handshake of a WebSocket, whichever library holds it, through structural types only: no import of
// socket.io, ws or graphql-ws here.

/** A socket.io `Socket`: its handshake carries the upgrade request's headers and the client's `auth` payload. */
interface SocketIoClientLike {
  handshake: { headers: RequestLike['headers']; auth?: Record<string, unknown> };
  disconnect(close?: boolean): unknown;
  emit(event: string, payload: unknown): unknown;
  once(event: string, listener: () => void): unknown;
}

/** A `ws` WebSocket (the ws adapter's client, a graphql-ws socket): it does not keep its upgrade request. */
interface WsClientLike {
  readyState: number;
  close(code?: number, reason?: string): unknown;
  once(event: string, listener: () => void): unknown;
}

/** What a socket's handlers see as its request: the handshake's cookies and Bearer token, and the user once known. */
export type SocketRequest = RequestLike & { user?: unknown };

const WS_OPEN = 1;

const requests = new WeakMap<object, SocketRequest>();

export function isSocketIoClient(client: unknown): client is SocketIoClientLike {
  const handshake = (client as Partial<SocketIoClientLike> | null)?.handshake;
  return typeof handshake === 'object' && handshake !== null && typeof handshake.headers === 'object';
}

function isWsClient(client: unknown): client is WsClientLike {
  const ws = client as Partial<WsClientLike> | null;
  return typeof ws?.readyState === 'number' && typeof ws.close === 'function';
}

/**
 * The request of a socket, built once per socket: socket.io's handshake, or for a ws client the upgrade request
 * handed over by `handleConnection` (`upgrade`). `token` (socket.io's `auth.token`, graphql-ws's
 * `connectionParams`) counts as a Bearer token. Undefined when nothing was ever handed over for a ws client.
 */
export function socketRequest(client: object, upgrade?: RequestLike, token?: unknown): SocketRequest | undefined {
  let request = requests.get(client);
  if (request) return request;
  const headers = isSocketIoClient(client) ? client.handshake.headers : upgrade?.headers;
  if (!headers) return undefined;
  const bearer = token ?? (isSocketIoClient(client) ? client.handshake.auth?.token : undefined);
  request = {
    headers: {
      cookie: headers.cookie,
      authorization: typeof bearer === 'string' && bearer ? `Bearer ${bearer}` : headers.authorization,
      host: headers.host,
    },
    socket: upgrade?.socket,
  };
  requests.set(client, request);
  return request;
}

/**
 * Refuses a socket and closes it: socket.io clients get an `exception` event then a disconnect; ws clients an
 * `exception` message (not for protocols with messages of their own, such as graphql-ws: `notify: false`), then a
 * close with `closeCode` and the message as reason.
 */
export function closeSocket(client: object, refusal: CrossmintSocketRefusal, closeCode: number, notify = true): void {
  if (isSocketIoClient(client)) {
    client.emit('exception', refusal);
    client.disconnect(true);
  } else if (isWsClient(client) && client.readyState === WS_OPEN) {
    if (notify) sendToWsClient(client, refusal);
    client.close(closeCode, refusal.message);
  }
}

/** Sends a refusal to a ws-adapter client as Nest's ws adapter sends exceptions: `{ event: 'exception', data }`. */
export function sendToWsClient(client: object, refusal: CrossmintSocketRefusal): void {
  if (isSocketIoClient(client) || !isWsClient(client) || client.readyState !== WS_OPEN) return;
  (client as { send?: (data: string) => unknown }).send?.(JSON.stringify({ event: 'exception', data: refusal }));
}

/** Calls `listener` once the socket is gone (socket.io's `disconnect`, ws's `close`). */
export function onSocketClosed(client: object, listener: () => void): void {
  if (isSocketIoClient(client)) client.once('disconnect', listener);
  else if (isWsClient(client)) client.once('close', listener);
}
