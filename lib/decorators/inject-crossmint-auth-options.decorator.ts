import { Inject } from '@nestjs/common';
import { CROSSMINT_AUTH_OPTIONS } from '../crossmint-auth.constants.js';

/** Injects the resolved, validated module options (`ResolvedCrossmintAuthOptions`). */
export const InjectCrossmintAuthOptions = (): PropertyDecorator & ParameterDecorator => Inject(CROSSMINT_AUTH_OPTIONS);
