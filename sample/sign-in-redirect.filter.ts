import { Catch, Injectable, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { CrossmintAuthenticationError } from 'nestjs-crossmint-auth';

/**
 * For pages: a browser without a valid session is sent to the sign-in page instead of a 401 JSON body.
 * Cookies the guard cleared on the way (a revoked refresh token) stay on the redirect. A 503 is left alone:
 * Crossmint being down is not a reason to ask the user to sign in again.
 */
@Catch(CrossmintAuthenticationError)
@Injectable()
export class SignInRedirectFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(_error: CrossmintAuthenticationError, host: ArgumentsHost): void {
    this.adapterHost.httpAdapter.redirect(host.switchToHttp().getResponse(), 303, '/sign-in');
  }
}
