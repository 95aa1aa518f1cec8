import type { FastifyInstance } from 'fastify';
import {
  type AccessControlOptions,
  type BearerVerifier,
  SCOPES,
  type ShareVerifier,
  createApiKeyVerifier,
  createOidcVerifier,
  installAccessControl,
} from '@tessera/access';
import type { Index } from '@tessera/index';
import type { Config } from './config.js';
import { accessOfRequest } from './route-access.js';
import { studyOfRequest } from './study-limit.js';

export interface AccessControlHooks {
  /** Wired to the audit trail (docs/security.md): every authentication outcome on a protected route. */
  onAuthentication?: AccessControlOptions['onAuthentication'];
}

/**
 * Access control as configured: the verifiers of AUTH_MODE, the anonymous principal (every scope
 * with AUTH_MODE=none, none otherwise) and the route table. Install after CORS (preflights pass).
 */
export function installServerAccessControl(app: FastifyInstance, config: Config, index: Index, hooks: AccessControlHooks = {}, shares?: ShareVerifier): void {
  const verifiers: BearerVerifier[] = [];
  if (config.auth.methods.includes('apikey')) verifiers.push(createApiKeyVerifier({ keys: index.apiKeys }));
  // AUTH_MODE with oidc requires OIDC_ISSUER (config.ts), so config.oidc is set here.
  if (config.auth.methods.includes('oidc') && config.oidc) {
    const { issuer, audience, scopesClaim, scopeMap, clockToleranceSeconds } = config.oidc;
    verifiers.push(createOidcVerifier({ issuer, audience, scopes: { claim: scopesClaim, ...(scopeMap ? { map: scopeMap } : {}) }, clockToleranceSeconds }));
  }
  installAccessControl(app, {
    anonymousScopes: config.auth.methods.length === 0 ? SCOPES : [],
    verifiers,
    accessOf: accessOfRequest,
    apiKeyCacheMs: config.auth.keyCacheMs,
    failuresPerMinute: config.auth.failuresPerMinute,
    // Share links (issue #14): the cookie of an opened link, read-only and limited to its study.
    ...(shares ? { shares, studyOf: studyOfRequest } : {}),
    ...(hooks.onAuthentication ? { onAuthentication: hooks.onAuthentication } : {}),
  });
}
