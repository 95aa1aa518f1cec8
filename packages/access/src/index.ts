export * from './principal.js';
export * from './verifier.js';
export * from './api-key.js';
export * from './api-key-verifier.js';
export * from './share-token.js';
export * from './share-verifier.js';
export * from './access-control.js';
export { ASYMMETRIC_ALGORITHMS, type OidcVerifierOptions, createOidcVerifier } from './oidc/oidc-verifier.js';
export { type ScopeClaim, type ScopeMapParse, parseScopeMap, scopesFromClaims } from './oidc/scope-claim.js';
