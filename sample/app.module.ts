import { Module, type DynamicModule } from '@nestjs/common';
import { CrossmintAuthModule, type CrossmintAuthModuleOptions } from 'nestjs-crossmint-auth';
import { AccountController } from './account.controller.js';
import type { DevSessions } from './dev-sessions.js';
import { DevSignInController, EMULATOR } from './dev-sign-in.controller.js';
import { FeedController } from './feed.controller.js';
import { HomeController } from './home.controller.js';
import { MeController } from './me.controller.js';
import { PagesController } from './pages.controller.js';

@Module({})
export class AppModule {
  /** With an emulator (no CROSSMINT_API_KEY, or DEV_SESSIONS_URL), the app also serves the dev sign-in routes behind the sign-in form. */
  static register(auth: CrossmintAuthModuleOptions, emulator?: DevSessions): DynamicModule {
    return {
      module: AppModule,
      imports: [CrossmintAuthModule.forRoot({ ...auth, isGlobal: true })],
      controllers: [
        HomeController,
        MeController,
        FeedController,
        AccountController,
        PagesController,
        ...(emulator ? [DevSignInController] : []),
      ],
      providers: emulator ? [{ provide: EMULATOR, useValue: emulator }] : [],
    };
  }
}
