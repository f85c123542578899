import type { EmulatorSession } from 'nestjs-crossmint-auth/testing';

/** Where the dev sign-in gets a session: the emulator object itself, or one shared by several instances. */
export interface DevSessions {
  createSession(options: { email: string }): Promise<EmulatorSession>;
}

/**
 * An emulator in another process (`npm run demo:cluster` runs one for all instances): `url` answers
 * `POST {"email": ...}` with the session the emulator minted. Demo and test only.
 */
export function remoteDevSessions(url: string): DevSessions {
  return {
    async createSession({ email }) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      });
      if (!response.ok) throw new Error(`Dev sessions endpoint answered ${response.status}`);
      return (await response.json()) as EmulatorSession;
    },
  };
}
