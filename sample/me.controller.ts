import { Controller, Get, UseGuards } from '@nestjs/common';
import { CrossmintAuthGuard, CrossmintAuthService, CurrentUser, type CrossmintAuthUser } from 'nestjs-crossmint-auth';

@Controller('me')
@UseGuards(CrossmintAuthGuard)
export class MeController {
  constructor(private readonly auth: CrossmintAuthService) {}

  @Get()
  me(@CurrentUser() user: CrossmintAuthUser) {
    return { userId: user.userId, expiresAt: new Date(user.claims.exp * 1000).toISOString() };
  }

  @Get('profile')
  profile(@CurrentUser('userId') userId: string) {
    return this.auth.getUser(userId);
  }
}
