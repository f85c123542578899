import { Controller, Get } from '@nestjs/common';

@Controller()
export class HomeController {
  @Get()
  home() {
    return {
      routes: {
        'GET /me': 'your user id (guarded)',
        'GET /me/profile': 'your Crossmint profile (guarded, uses getUser)',
        'GET /feed': 'works signed in or out (session interceptor)',
        'POST /api/auth/refresh': "the browser SDK's refreshRoute",
        'POST /api/auth/logout': "the browser SDK's logoutRoute",
        'GET /sign-in': 'page: sign-in form (emulator mode)',
        'GET /account': 'page: your account, rendered on the server (guarded; redirects to /sign-in)',
        'GET /client': "page: its script calls GET /me with fetch(..., { credentials: 'include' })",
      },
    };
  }
}
