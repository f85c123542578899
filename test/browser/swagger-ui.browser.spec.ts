import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CrossmintAuthGuard, CrossmintAuthModule, CurrentUser } from 'nestjs-crossmint-auth';
import { CrossmintAuthEmulator } from 'nestjs-crossmint-auth/testing';
import { addCrossmintAuth, ApiCrossmintAuth } from '../../lib/swagger/index.js';
import { JWT_COOKIE } from '../support/cookies.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic'];
// docs/swagger.md's picture is rewritten only on request, so a test run leaves the working tree as it was.
const SCREENSHOT = process.env.UPDATE_SCREENSHOT
  ? fileURLToPath(new URL('../../docs/swagger-try-it-out.png', import.meta.url))
  : join(tmpdir(), 'nestjs-crossmint-auth', 'swagger-try-it-out.png');

@Controller('me')
@UseGuards(CrossmintAuthGuard)
@ApiCrossmintAuth()
class MeController {
  @Get()
  me(@CurrentUser('userId') userId: string) {
    return { userId };
  }
}

describe("Swagger UI's Try it out with the session cookie (Chromium)", () => {
  let emulator: CrossmintAuthEmulator;
  let app: INestApplication;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
    emulator = await CrossmintAuthEmulator.start();
    @Module({ imports: [CrossmintAuthModule.forRoot(emulator.moduleOptions())], controllers: [MeController] })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false });
    const config = addCrossmintAuth(new DocumentBuilder().setTitle('Crossmint Auth example')).build();
    SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, config));
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://localhost:${(app.getHttpServer().address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ baseURL: baseUrl, viewport: { width: 1000, height: 760 } });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await emulator?.stop();
  });

  async function tryItOut(): Promise<string> {
    await page.goto('/docs');
    await page.click('.opblock-summary-path >> text=/me');
    await page.click('button.try-out__btn');
    await page.click('button.execute');
    const status = page.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();
    return (await status.textContent())!.trim();
  }

  it('answers 401 signed out, and 200 with the user once signed in through the emulator', async () => {
    expect(await tryItOut()).toBe('401');

    // Signed in: the browser holds the session cookie for the API's origin, as after the browser SDK's sign-in.
    const session = await emulator.createSession({ email: 'alice@example.com' });
    await page.context().addCookies([{ name: JWT_COOKIE, value: session.jwt, url: baseUrl }]);
    expect(await tryItOut()).toBe('200');
    expect(await page.locator('.live-responses-table .response-col_description pre').first().textContent()).toContain(
      session.userId,
    );

    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});
