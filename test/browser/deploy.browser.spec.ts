import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Cookie, type Page } from 'playwright-core';
import { buildSample, startCluster, type DemoCluster } from '../../scripts/demo-cluster-topology.mjs';

// Debian's Chromium, never a downloaded browser. CI installs it, nginx and redis-server with apt-get.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic'];
const JWT_COOKIE = '__Host-crossmint-jwt';
const REFRESH_COOKIE = '__Host-crossmint-refresh-token';
const ALICE = { id: 'user-alice', email: 'alice@example.com' };
// The docs' picture is rewritten only on request, so a test run leaves the working tree as it was.
const SCREENSHOT = process.env.UPDATE_SCREENSHOT
  ? fileURLToPath(new URL('../../docs/deploy.png', import.meta.url))
  : join(tmpdir(), 'nestjs-crossmint-auth', 'deploy.png');

interface MeAnswer {
  status: number;
  userId?: string;
  instance: string | null;
}

/** `count` parallel `fetch('/me')` from the page's script, each with the instance that answered it. */
function fetchMe(page: Page, count: number): Promise<MeAnswer[]> {
  return page.evaluate(
    (count) =>
      Promise.all(
        Array.from({ length: count }, async () => {
          const response = await fetch('/me', { credentials: 'include' });
          const body = await response.json();
          return { status: response.status, userId: body.userId, instance: response.headers.get('x-instance') };
        }),
      ),
    count,
  );
}

describe('deployed: nginx (TLS) round-robin over three sample processes, Redis, one emulator; in Chromium', () => {
  let cluster: DemoCluster;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  async function jar(target = context): Promise<Record<string, Cookie>> {
    const cookies = await target.cookies(cluster.url);
    return Object.fromEntries(cookies.map((cookie) => [cookie.name, cookie]));
  }

  /** Waits until the browser dropped the JWT cookie, which lives as long as the JWT (Max-Age rounded up). */
  async function waitPastJwtExpiry(): Promise<void> {
    const jwt = (await jar())[JWT_COOKIE]?.value;
    if (jwt) {
      const { exp } = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as { exp: number };
      await sleep(Math.max(0, exp * 1000 + 1100 - Date.now()));
    }
    expect((await jar())[JWT_COOKIE]).toBeUndefined();
  }

  function newContext(): Promise<BrowserContext> {
    return browser.newContext({ baseURL: cluster.url, ignoreHTTPSErrors: true, viewport: { width: 900, height: 480 } });
  }

  async function expectSignedInAs(tab: Page, email: string): Promise<void> {
    await tab.goto('/account');
    expect(new URL(tab.url()).pathname).toBe('/account');
    expect(await tab.textContent('#email')).toBe(email);
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
    buildSample();
    cluster = await startCluster({ jwtTtlSec: 3 });
    cluster.emulator.createUser({ id: ALICE.id, email: ALICE.email });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, ...cluster.chromiumArgs],
    });
    context = await newContext();
    page = await context.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  // The __Host- names make the module set Secure whatever the proxy headers say: security-tls-proxy.e2e covers
  // how `secure: 'auto'` reads them.
  it('signs in over TLS through nginx with host-only __Host- cookies', async () => {
    await page.goto('/sign-in');
    await page.fill('input[name="email"]', ALICE.email);
    await Promise.all([page.waitForURL('**/account'), page.click('button[type="submit"]')]);

    expect(page.url()).toBe(`${cluster.url}/account`);
    expect(await page.textContent('#email')).toBe(ALICE.email);
    const cookies = await jar();
    const hostOnly = { domain: new URL(cluster.url).hostname, path: '/', secure: true, sameSite: 'Lax' };
    expect(cookies[JWT_COOKIE]).toMatchObject({ ...hostOnly, httpOnly: false });
    expect(cookies[REFRESH_COOKIE]).toMatchObject({ ...hostOnly, httpOnly: true });

    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
  });

  it('an expired JWT, three tabs, parallel requests on all three instances: one upstream refresh, all signed in', async () => {
    const tabs = [page, await context.newPage(), await context.newPage()];
    // The account page makes no request of its own once loaded, so nothing refreshes behind the test's back.
    await Promise.all(tabs.slice(1).map((tab) => tab.goto('/account')));
    const refreshBefore = (await jar())[REFRESH_COOKIE].value;
    await waitPastJwtExpiry();
    const refreshes = cluster.emulator.calls('refresh');

    // Six requests: Chromium's connection limit per host, so all six leave with the expired session.
    const answers = (await Promise.all(tabs.map((tab) => fetchMe(tab, 2)))).flat();

    expect(answers.map((answer) => [answer.status, answer.userId])).toEqual(Array(6).fill([200, ALICE.id]));
    expect(new Set(answers.map((answer) => answer.instance))).toEqual(new Set(['app-1', 'app-2', 'app-3']));
    expect(cluster.emulator.calls('refresh') - refreshes).toBe(1);
    expect((await jar())[REFRESH_COOKIE].value).not.toBe(refreshBefore);
    // Each tab reloads its account page (a new JWT may expire meanwhile on a slow machine: not counted).
    for (const tab of tabs) await expectSignedInAs(tab, ALICE.email);
    await Promise.all(tabs.slice(1).map((tab) => tab.close()));
  });

  /** Mallory's own session, live for minutes: what a sibling subdomain she controls would toss. */
  async function tossUrl(): Promise<{ url: string; mallory: { userId: string; jwt: string } }> {
    const mallory = await cluster.emulator.createSession({ email: 'mallory@example.com', jwtTtlSec: 300 });
    const query = `jwt=${mallory.jwt}&refresh=${encodeURIComponent(mallory.refreshToken.secret)}`;
    return { url: `${cluster.siblingUrl}/toss?${query}`, mallory };
  }

  it('cookies tossed by a sibling subdomain (Domain=.example.test) do not take over her __Host- session', async () => {
    const { url, mallory } = await tossUrl();

    await page.goto(url);
    const tossed = await jar();
    expect(tossed['crossmint-jwt']).toMatchObject({ domain: '.example.test', value: mallory.jwt });
    expect(tossed['crossmint-refresh-token']).toMatchObject({ domain: '.example.test' });
    await expectSignedInAs(page, ALICE.email);
    // Her JWT gone, the browser sends her refresh token beside Mallory's live JWT and refresh token.
    await waitPastJwtExpiry();
    await expectSignedInAs(page, ALICE.email);
    expect((await fetchMe(page, 1))[0]).toMatchObject({ status: 200, userId: ALICE.id });
    expect(cluster.emulator.liveRefreshTokens(mallory.userId)).toBe(1);
  });

  it('cookies tossed by a sibling subdomain do not sign a signed-out browser in as someone else', async () => {
    const { url, mallory } = await tossUrl();
    const signedOut = await newContext();
    try {
      const tab = await signedOut.newPage();
      await tab.goto(url);
      expect((await jar(signedOut))['crossmint-jwt']?.value).toBe(mallory.jwt);

      await tab.goto('/account');

      expect(new URL(tab.url()).pathname).toBe('/sign-in');
      expect((await fetchMe(tab, 1))[0].status).toBe(401);
    } finally {
      await signedOut.close();
    }
  });

  it('Redis restarted (killed, then an empty one): no one is logged out, and refreshes are shared again after', async () => {
    await cluster.restartRedis(async () => {
      // Redis down: the session cookies are all a request needs, and a refresh is made within one instance.
      await waitPastJwtExpiry();
      expect((await fetchMe(page, 1))[0]).toMatchObject({ status: 200, userId: ALICE.id });
    });
    await waitPastJwtExpiry();
    const refreshes = cluster.emulator.calls('refresh');

    const answers = await fetchMe(page, 6);

    expect(answers.map((answer) => [answer.status, answer.userId])).toEqual(Array(6).fill([200, ALICE.id]));
    expect(new Set(answers.map((answer) => answer.instance)).size).toBe(3);
    expect(cluster.emulator.calls('refresh') - refreshes).toBe(1);
    await expectSignedInAs(page, ALICE.email);
  });

  it('an instance killed mid-flight: nginx sends its requests to the other two, and the browser stays signed in', async () => {
    // A stream of requests over about a second, with app-2 killed (SIGKILL) in the middle of it.
    const stream = page.evaluate(() =>
      Promise.all(
        Array.from({ length: 40 }, async (_, index) => {
          await new Promise((resolve) => setTimeout(resolve, index * 25));
          const response = await fetch('/me', { credentials: 'include' });
          return { status: response.status, instance: response.headers.get('x-instance') };
        }),
      ),
    );
    await sleep(400);
    await cluster.killInstance(1);
    const answers = await stream;

    expect(answers.map((answer) => answer.status)).toEqual(Array(40).fill(200));
    expect(answers.slice(-10).map((answer) => answer.instance)).not.toContain('app-2');

    await waitPastJwtExpiry();
    const refreshes = cluster.emulator.calls('refresh');
    const after = await fetchMe(page, 6);
    expect(after.map((answer) => [answer.status, answer.userId])).toEqual(Array(6).fill([200, ALICE.id]));
    expect(new Set(after.map((answer) => answer.instance))).toEqual(new Set(['app-1', 'app-3']));
    expect(cluster.emulator.calls('refresh') - refreshes).toBe(1);
    await expectSignedInAs(page, ALICE.email);
  });

  it('signs out: the refresh token is revoked at Crossmint, and the browser replaying it gets a 401', async () => {
    const lastRefreshSecret = (await jar())[REFRESH_COOKIE].value;
    const logouts = cluster.emulator.calls('logout');
    await page.goto('/account');

    await Promise.all([page.waitForURL('**/sign-in'), page.click('#sign-out')]);

    expect((await jar())[JWT_COOKIE]).toBeUndefined();
    expect((await jar())[REFRESH_COOKIE]).toBeUndefined();
    expect(cluster.emulator.calls('logout') - logouts).toBe(1);
    expect(cluster.emulator.liveRefreshTokens(ALICE.id)).toBe(0);

    await context.addCookies([
      { name: REFRESH_COOKIE, value: lastRefreshSecret, url: cluster.url, secure: true, httpOnly: true },
    ]);
    const replay = await page.evaluate(async () => {
      const response = await fetch('/api/auth/refresh', {
        method: 'POST',
        credentials: 'include',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      return response.status;
    });
    expect(replay).toBe(401);
    await page.goto('/account');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
  });
});
