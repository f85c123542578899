import { Controller, Get, Header, Inject, Optional } from '@nestjs/common';
import type { DevSessions } from './dev-sessions.js';
import { EMULATOR } from './dev-sign-in.controller.js';
import { renderPage } from './html.js';

/** Public pages: sign-in, and a page whose script calls the guarded JSON API from the browser. */
@Controller()
export class PagesController {
  constructor(@Optional() @Inject(EMULATOR) private readonly emulator?: DevSessions) {}

  @Get('sign-in')
  @Header('Content-Type', 'text/html; charset=utf-8')
  signIn(): string {
    if (!this.emulator) {
      return renderPage({
        title: 'Sign in',
        body: `<h1>Sign in</h1>
<p>This app talks to Crossmint. Sign in on your front end with Crossmint's browser SDK, pointed at this
server's <code>refreshRoute</code> and <code>logoutRoute</code>; the SDK sets the cookies this server reads.</p>`,
      });
    }
    return renderPage({
      title: 'Sign in',
      body: `<h1>Sign in</h1>
<p class="note">Emulator mode: this form stands in for Crossmint's hosted sign-in. The server asks the emulator
for a session and sets the <code>crossmint-jwt</code> and (HttpOnly) <code>crossmint-refresh-token</code> cookies.</p>
<form method="post" action="/dev/sign-in">
  <label>Email <input type="email" name="email" required autocomplete="email" placeholder="alice@example.com"></label>
  <button type="submit">Sign in</button>
</form>`,
    });
  }

  @Get('client')
  @Header('Content-Type', 'text/html; charset=utf-8')
  client(): string {
    return renderPage({
      title: 'Browser API call',
      body: `<h1>Guarded JSON API, called from the browser</h1>
<p>This page is public. Its script calls <code>GET /me</code> with <code>fetch('/me', { credentials: 'include' })</code>;
the guard reads the cookies, refreshes an expired JWT and rotates both cookies on the answer.</p>
<pre id="me-result" data-status="pending">Loading…</pre>
<button id="call-again" type="button">Call again</button>`,
      script: `async function callMe() {
  const response = await fetch('/me', { credentials: 'include' });
  return { status: response.status, body: await response.json() };
}
async function showMe() {
  const result = document.getElementById('me-result');
  try {
    const { status, body } = await callMe();
    result.dataset.status = String(status);
    result.textContent = status === 401 ? '401: signed out. Sign in first.' : JSON.stringify(body, null, 2);
  } catch (error) {
    result.dataset.status = 'error';
    result.textContent = 'Request failed: ' + error.message;
  }
}
document.getElementById('call-again').addEventListener('click', showMe);
showMe();`,
    });
  }
}
