import { Module, type DynamicModule } from '@nestjs/common';
import { CrossmintAuthModule, type CrossmintAuthModuleOptions } from 'nestjs-crossmint-auth';
import type { CrossmintAuthEmulator } from 'nestjs-crossmint-auth/testing';
import { DevSignInController, EMULATOR } from './dev-sign-in.controller.js';
import { FeedController } from './feed.controller.js';
import { HomeController } from './home.controller.js';
import { MeController } from './me.controller.js';

@Module({})
export class AppModule {
  /** With an emulator (no CROSSMINT_API_KEY), the app also serves a dev sign-in route. */
  static register(auth: CrossmintAuthModuleOptions, emulator?: CrossmintAuthEmulator): DynamicModule {
    return {
      module: AppModule,
      imports: [CrossmintAuthModule.forRoot({ ...auth, isGlobal: true })],
      controllers: [HomeController, MeController, FeedController, ...(emulator ? [DevSignInController] : [])],
      providers: emulator ? [{ provide: EMULATOR, useValue: emulator }] : [],
    };
  }
}
