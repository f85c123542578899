import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { CrossmintAuthModuleOptions } from './interfaces/crossmint-auth-options.interface.js';

export const {
  ConfigurableModuleClass: ConfigurableCrossmintAuthModule,
  MODULE_OPTIONS_TOKEN: CROSSMINT_AUTH_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<CrossmintAuthModuleOptions>({ moduleName: 'CrossmintAuth' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createCrossmintAuthOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
