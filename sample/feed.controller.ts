import { Controller, Get, UseInterceptors } from '@nestjs/common';
import { CrossmintSessionInterceptor, CurrentUser } from 'nestjs-crossmint-auth';

@Controller('feed')
@UseInterceptors(CrossmintSessionInterceptor)
export class FeedController {
  @Get()
  feed(@CurrentUser('userId') userId?: string) {
    return userId
      ? { greeting: `Welcome back, ${userId}`, items: ['your picks'] }
      : { greeting: 'Hello, guest', items: ['popular'] };
  }
}
