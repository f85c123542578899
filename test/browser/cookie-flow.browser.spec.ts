import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Cookie, type Page } from 'playwright-core';
// By package name, like the sample (jest maps it to lib/), so both see the same emulator class.
import { CrossmintAuthEmulator } from 'nestjs-crossmint-auth/testing';
import { AppModule } from '../../sample/app.module.js';
import { JWT_COOKIE, REFRESH_COOKIE } from '../support/cookies.js';

// Debian's Chromium, never a downloaded browser. CI installs it with apt-get.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];
const ALICE = { id: 'user-alice', email: 'alice@example.com' };
// README's picture is rewritten only on request, so a test run leaves the working tree as it was.
const SCREENSHOT = process.env.UPDATE_SCREENSHOT
  ? fileURLToPath(new URL('../../docs/signed-in.png', import.meta.url))
  : join(tmpdir(), 'nestjs-crossmint-auth', 'signed-in.png');

describe('the cookie flow in a real browser (sample app, Chromium)', () => {
  let emulator: CrossmintAuthEmulator;
  let app: INestApplication;
  let baseUrl: string;
  let directUrl: string;
  let userDataDir: string;
  let context: BrowserContext;
  let page: Page;

  async function jar(): Promise<Record<string, Cookie>> {
    const cookies = await context.cookies(baseUrl);
    return Object.fromEntries(
      cookies.filter((cookie) => cookie.name.startsWith('crossmint-')).map((cookie) => [cookie.name, cookie]),
    );
  }

  /** Waits until the JWT in the browser's jar has expired (the app runs with no clock tolerance). */
  async function waitPastJwtExpiry(): Promise<void> {
    const jwt = (await jar())[JWT_COOKIE]?.value;
    // The JWT cookie lives as long as the JWT: gone from the jar means expired already.
    if (!jwt) return;
    const { exp } = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as { exp: number };
    const wait = exp * 1000 + 100 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
    emulator = await CrossmintAuthEmulator.start({ jwtTtlSec: 4 });
    // The form signs in by email; a known id keeps the screenshot stable.
    emulator.createUser({ id: ALICE.id, email: ALICE.email });
    app = await NestFactory.create(
      AppModule.register(
        {
          ...emulator.moduleOptions(),
          clockToleranceSec: 0,
          routes: { refresh: '/api/auth/refresh', logout: '/api/auth/logout' },
          cookies: { httpOnlyRefreshToken: true },
        },
        emulator,
      ),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    // localhost, so `secure: 'auto'` leaves Secure off and the browser keeps the cookies over plain http.
    baseUrl = `http://localhost:${port}`;
    directUrl = `http://127.0.0.1:${port}`;

    userDataDir = await mkdtemp(join(tmpdir(), 'crossmint-browser-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      baseURL: baseUrl,
      viewport: { width: 900, height: 480 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    await app?.close();
    await emulator?.stop();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  it('signs in through the form and renders the email on the server', async () => {
    await page.goto('/sign-in');
    await page.fill('input[name="email"]', ALICE.email);
    await Promise.all([page.waitForURL('**/account'), page.click('button[type="submit"]')]);

    expect(await page.textContent('#email')).toBe(ALICE.email);
    expect(await page.textContent('#user-id')).toBe(ALICE.id);
    const cookies = await jar();
    expect(cookies[JWT_COOKIE]).toMatchObject({ httpOnly: false, secure: false, sameSite: 'Lax', path: '/' });
    expect(cookies[REFRESH_COOKIE]).toMatchObject({ httpOnly: true, secure: false, sameSite: 'Lax', path: '/' });

    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
  });

  it('stays signed in past the JWT lifetime and rotates the refresh token in the jar', async () => {
    const before = (await jar())[REFRESH_COOKIE].value;
    const refreshes = emulator.calls('refresh');
    await waitPastJwtExpiry();

    await page.reload();

    expect(page.url()).toBe(`${baseUrl}/account`);
    expect(await page.textContent('#email')).toBe(ALICE.email);
    expect((await jar())[REFRESH_COOKIE].value).not.toBe(before);
    expect(emulator.calls('refresh') - refreshes).toBe(1);
  });

  it("calls the guarded JSON API from the page's script with credentials: 'include'", async () => {
    await page.goto('/client');
    await page.waitForSelector('#me-result:not([data-status="pending"])');
    expect(await page.getAttribute('#me-result', 'data-status')).toBe('200');
    expect(JSON.parse((await page.textContent('#me-result'))!)).toMatchObject({ userId: ALICE.id });
  });

  it('refreshes once upstream for five parallel fetches with an expired JWT', async () => {
    const { [JWT_COOKIE]: jwtBefore, [REFRESH_COOKIE]: refreshBefore } = await jar();
    await waitPastJwtExpiry();
    const refreshes = emulator.calls('refresh');

    const results = await page.evaluate(() =>
      Promise.all(
        Array.from({ length: 5 }, async () => {
          const response = await fetch('/me', { credentials: 'include' });
          return { status: response.status, body: await response.json() };
        }),
      ),
    );

    expect(results.map((result) => result.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map((result) => result.body.userId)).toEqual(Array(5).fill(ALICE.id));
    expect(emulator.calls('refresh') - refreshes).toBe(1);
    const after = await jar();
    expect(after[JWT_COOKIE].value).not.toBe(jwtBefore.value);
    expect(after[REFRESH_COOKIE].value).not.toBe(refreshBefore.value);
  });

  it('keeps the refresh cookie out of document.cookie (HttpOnly) and the JWT in it', async () => {
    const documentCookie = await page.evaluate(() => document.cookie);
    const names = documentCookie.split(';').map((pair) => pair.trim().split('=')[0]);
    expect(names).toContain(JWT_COOKIE);
    expect(names).not.toContain(REFRESH_COOKIE);
  });

  it('signs out: the logout route revokes the token, both cookies leave the jar, the account page refuses', async () => {
    const lastRefreshSecret = (await jar())[REFRESH_COOKIE].value;
    const logouts = emulator.calls('logout');
    await page.goto('/account');

    await Promise.all([page.waitForURL('**/sign-in'), page.click('#sign-out')]);

    expect(await jar()).toEqual({});
    expect(emulator.calls('logout') - logouts).toBe(1);

    const response = await page.goto('/account');
    expect(page.url()).toBe(`${baseUrl}/sign-in`);
    expect(response?.request().redirectedFrom()?.url()).toBe(`${baseUrl}/account`);
    expect((await response?.request().redirectedFrom()?.response())?.status()).toBe(303);

    // The HttpOnly cookie reached the logout route, so the token was revoked upstream, not just forgotten.
    const refresh = await fetch(`${directUrl}/api/auth/refresh`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: directUrl,
        cookie: `${REFRESH_COOKIE}=${lastRefreshSecret}`,
      },
      body: '{}',
    });
    expect(refresh.status).toBe(401);
  });

  it('escapes the user-provided email on the account page', async () => {
    const email = '<b>mallory</b>@example.com';
    // The form's type="email" would refuse this in the browser; post it the way a script could.
    const signIn = await page.request.post('/dev/sign-in', { form: { email }, maxRedirects: 0 });
    expect(signIn.status()).toBe(303);

    await page.goto('/account');
    expect(await page.textContent('#email')).toBe(email);
    expect(await page.locator('#email b').count()).toBe(0);
  });
});
