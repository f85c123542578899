import { UseGuards, UseInterceptors, type DynamicModule } from '@nestjs/common';
import { Field, ObjectType, Query, Resolver } from '@nestjs/graphql';
import {
  CrossmintAuthGuard,
  CrossmintSessionInterceptor,
  CurrentUser,
  type CrossmintAuthUser,
} from '../../lib/index.js';
import type { CrossmintAuthEmulator } from '../../lib/testing/index.js';
import { request, type TestResponse } from './http.js';
import type { TestAppOptions, TestPlatform } from './test-app.js';

@ObjectType()
export class Viewer {
  @Field()
  userId!: string;

  @Field()
  sub!: string;
}

/** The resolver both GraphQL suites run: a guarded query and an optional one behind the interceptor. */
@Resolver()
export class ViewerResolver {
  @Query(() => Viewer)
  @UseGuards(CrossmintAuthGuard)
  me(@CurrentUser() user: CrossmintAuthUser, @CurrentUser('userId') userId: string): Viewer {
    return { userId, sub: user.claims.sub };
  }

  @Query(() => String, { nullable: true })
  @UseInterceptors(CrossmintSessionInterceptor)
  maybeMe(@CurrentUser('userId') userId?: string): string | null {
    return userId ?? null;
  }
}

/** A GraphQL POST to `${baseUrl}/graphql`. */
export function graphqlRequest(
  baseUrl: string,
  query: string,
  init: { cookies?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<TestResponse> {
  return request(`${baseUrl}/graphql`, {
    method: 'POST',
    cookies: init.cookies,
    headers: { 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify({ query }),
  });
}

/** Options of a test app serving `ViewerResolver` through `graphqlModule` (a `GraphQLModule.forRoot(...)` for the driver under test). */
export function graphqlAppOptions(
  emulator: CrossmintAuthEmulator,
  graphqlModule: DynamicModule,
  platform?: TestPlatform,
): TestAppOptions {
  return {
    moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 1000 },
    imports: [graphqlModule],
    controllers: [],
    providers: [ViewerResolver],
    platform,
  };
}
