import { describe, expect, it } from '@jest/globals';
import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import {
  CrossmintAuthenticationError,
  CrossmintAuthGuard,
  CrossmintUnsupportedContextError,
  type CrossmintAuthUser,
  type RequestLike,
} from '../lib/index.js';
import { useEmulatorApps } from './support/emulator-apps.js';

/** A message of a custom transport (an MQTT bridge, say): its token travels in the message's properties. */
interface MqttPacket {
  topic: string;
  properties: { token?: string };
  /** Where the guard's request lands, and with it the user that `setRequestUser` puts on it. */
  auth?: { user?: CrossmintAuthUser };
}

/** The guard extended to the custom transport through its seam: the packet's token, as a Bearer token. */
@Injectable()
class MqttAuthGuard extends CrossmintAuthGuard {
  protected override getRequestResponse(context: ExecutionContext) {
    if (context.getType<string>() !== 'mqtt') return super.getRequestResponse(context);
    const packet = context.getArgByIndex<MqttPacket>(0);
    const token = packet.properties.token;
    const request: RequestLike & { user?: unknown } = { headers: token ? { authorization: `Bearer ${token}` } : {} };
    packet.auth = request as MqttPacket['auth'];
    return { request };
  }
}

class SomeHandlers {
  handle() {}
}

/** An execution context of `type`, as Nest builds one for a transport it routes to a handler. */
function contextOf(type: string, args: unknown[]): ExecutionContextHost {
  const context = new ExecutionContextHost(args, SomeHandlers, SomeHandlers.prototype.handle);
  context.setType(type);
  return context;
}

describe('Crossmint auth in contexts it cannot serve, and extended to a custom transport', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: { moduleOptions: emulator.moduleOptions(), controllers: [], providers: [MqttAuthGuard] },
    }),
  });

  it.each(['rpc', 'mqtt'])("refuses a '%s' context with an error naming it, never waving it through", async (type) => {
    const guard = suite.app.app.get(CrossmintAuthGuard);
    let thrown: unknown;
    try {
      await guard.canActivate(contextOf(type, [{ pattern: 'sum' }, {}]));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CrossmintUnsupportedContextError);
    expect(thrown).toMatchObject({ code: 'CROSSMINT_AUTH_UNSUPPORTED_CONTEXT', contextType: type });
    expect((thrown as Error).message).toContain(`'${type}' execution context`);
  });

  it('serves a custom transport through the getRequestResponse seam', async () => {
    const guard = suite.app.app.get(MqttAuthGuard);
    const session = await suite.emulator.createSession();
    const packet: MqttPacket = { topic: 'orders', properties: { token: session.jwt } };
    await expect(guard.canActivate(contextOf('mqtt', [packet]))).resolves.toBe(true);
    expect(packet.auth?.user).toMatchObject({ userId: session.userId, jwt: session.jwt });

    const anonymous: MqttPacket = { topic: 'orders', properties: {} };
    await expect(guard.canActivate(contextOf('mqtt', [anonymous]))).rejects.toBeInstanceOf(
      CrossmintAuthenticationError,
    );
    expect(suite.emulator.calls('refresh')).toBe(0);
  });
});
