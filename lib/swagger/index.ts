// `nestjs-crossmint-auth/swagger`: a separate entry point, so that the root import never loads @nestjs/swagger
// (an optional peer).
export { ApiCrossmintAuth } from './api-crossmint-auth.decorator.js';
export { addCrossmintAuth } from './add-crossmint-auth.js';
export { CROSSMINT_SWAGGER_SECURITY } from '../crossmint-auth.constants.js';
