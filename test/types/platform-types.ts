// Type-level test, checked by `npm run typecheck` (not run by jest): the service's public methods accept
// the request and response types of Express, Fastify and bare Node, without casts.
import type { Request, Response } from 'express';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CrossmintAuthMaterial, CrossmintAuthService } from '../../lib/index.js';

export async function express(
  auth: CrossmintAuthService,
  req: Request,
  res: Response,
  material: CrossmintAuthMaterial,
) {
  await auth.getSession(req, res);
  await auth.logout(req, res);
  auth.storeAuthMaterial(res, material);
  auth.clearAuthMaterial(res);
}

export async function fastify(
  auth: CrossmintAuthService,
  req: FastifyRequest,
  reply: FastifyReply,
  material: CrossmintAuthMaterial,
) {
  await auth.getSession(req, reply);
  await auth.logout(req, reply);
  auth.storeAuthMaterial(reply, material);
  auth.clearAuthMaterial(reply);
}

export async function node(
  auth: CrossmintAuthService,
  req: IncomingMessage,
  res: ServerResponse,
  material: CrossmintAuthMaterial,
) {
  await auth.getSession(req, res);
  await auth.logout(req, res);
  auth.storeAuthMaterial(res, material);
  auth.clearAuthMaterial(res);
}
