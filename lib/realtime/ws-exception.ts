/** `WsException`'s constructor, as far as this module uses it. */
type WsExceptionClass = new (error: object) => Error;

/** What the guard needs from `@nestjs/websockets`. */
export interface WsErrors {
  WsException: WsExceptionClass;
  /**
   * Whether Nest sends a gateway's exceptions to ws-adapter clients (Nest 12). Nest 11 sends them to socket.io
   * clients only: the `emit` of a `ws` client dispatches locally, so the guard sends its refusal itself.
   */
  reachesWsClients: boolean;
}

let wsErrors: Promise<WsErrors> | undefined;

/**
 * `WsException`, the one error Nest's gateways send to the client as is (anything else becomes "Internal server
 * error"). `@nestjs/websockets` is an optional peer: it is loaded on the first ws context, which only an app
 * that has it installed can produce, and never by an app without gateways.
 */
export function loadWsErrors(): Promise<WsErrors> {
  return (wsErrors ??= import('@nestjs/websockets').then(({ WsException, BaseWsExceptionFilter }) => ({
    WsException,
    reachesWsClients: 'emitMessage' in BaseWsExceptionFilter.prototype,
  })));
}
