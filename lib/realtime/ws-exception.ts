/** `WsException`'s constructor, as far as this module uses it. */
type WsExceptionClass = new (error: object) => Error;

let wsException: Promise<WsExceptionClass> | undefined;

/**
 * `WsException`, the one error Nest's gateways send to the client as is (anything else becomes "Internal server
 * error"). `@nestjs/websockets` is an optional peer: it is loaded on the first ws context, which only an app
 * that has it installed can produce, and never by an app without gateways.
 */
export function loadWsException(): Promise<WsExceptionClass> {
  return (wsException ??= import('@nestjs/websockets').then((websockets) => websockets.WsException));
}
