import { BadRequestException, Body, Controller, Get, Inject, Post, Query, Redirect, Res } from '@nestjs/common';
import { CrossmintAuthService } from 'nestjs-crossmint-auth';
import type { DevSessions } from './dev-sessions.js';
import type { Response } from 'express';

export const EMULATOR = Symbol('EMULATOR');

/** Emulator mode only: stands in for Crossmint's hosted sign-in by minting a session and setting its cookies. */
@Controller('dev')
export class DevSignInController {
  constructor(
    @Inject(EMULATOR) private readonly emulator: DevSessions,
    private readonly auth: CrossmintAuthService,
  ) {}

  @Get('sign-in')
  async signIn(@Query('email') email = 'dev@example.com', @Res({ passthrough: true }) res: Response) {
    const session = await this.emulator.createSession({ email });
    this.auth.storeAuthMaterial(res, session);
    return { signedIn: session.user, next: 'GET /me, /me/profile or /feed with these cookies' };
  }

  /** The sign-in form's target: sets the cookies, then sends the browser to its account page. */
  @Post('sign-in')
  @Redirect('/account', 303)
  async signInForm(@Body('email') email: unknown, @Res({ passthrough: true }) res: Response): Promise<void> {
    if (typeof email !== 'string' || email.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(email)) {
      throw new BadRequestException('Enter an email address');
    }
    const session = await this.emulator.createSession({ email });
    this.auth.storeAuthMaterial(res, session);
  }
}
