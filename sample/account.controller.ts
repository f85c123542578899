import { Controller, Get, Header, Inject, UseFilters, UseGuards } from '@nestjs/common';
import {
  CROSSMINT_AUTH_OPTIONS,
  CrossmintAuthGuard,
  CrossmintAuthService,
  CurrentUser,
  type CrossmintAuthUser,
  type ResolvedCrossmintAuthOptions,
} from 'nestjs-crossmint-auth';
import { escapeHtml, renderPage, scriptValue } from './html.js';
import { SignInRedirectFilter } from './sign-in-redirect.filter.js';

/** A page rendered on the server for the signed-in user; signed-out browsers are redirected to sign in. */
@Controller('account')
@UseGuards(CrossmintAuthGuard)
@UseFilters(SignInRedirectFilter)
export class AccountController {
  constructor(
    private readonly auth: CrossmintAuthService,
    @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'private, no-store')
  async account(@CurrentUser() user: CrossmintAuthUser): Promise<string> {
    const profile = await this.auth.getUser(user.userId);
    const logoutRoute = this.options.routes?.logout;
    return renderPage({
      title: 'Account',
      body: `<h1>Your account</h1>
<p>Signed in as <strong id="email">${escapeHtml(profile.email ?? '(no email)')}</strong></p>
<dl>
  <dt>User id</dt><dd id="user-id">${escapeHtml(user.userId)}</dd>
  <dt>JWT expires</dt><dd>${escapeHtml(new Date(user.claims.exp * 1000).toISOString())}</dd>
</dl>
<p class="note">Rendered on the server from <code>getUser()</code>. Reload after the JWT expires: the guard refreshes it
from the HttpOnly refresh cookie and rotates both cookies.</p>
${logoutRoute ? '<button id="sign-out" type="button">Sign out</button>' : ''}`,
      // Like the browser SDK: a POST with no body to the logout route, which revokes the refresh token and clears both cookies.
      script: logoutRoute
        ? `document.getElementById('sign-out').addEventListener('click', async () => {
  await fetch(${scriptValue(logoutRoute)}, { method: 'POST', credentials: 'include' });
  location.assign('/sign-in');
});`
        : undefined,
    });
  }
}
