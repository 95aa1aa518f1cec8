import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { routeAccess } from '../route-access.js';
import { VERSION } from '../version.js';
import { type Media, OPERATIONS, type OperationDoc, TAGS } from './operations.js';

/** Where the rendered reference (Swagger UI, served from the installed package: no CDN) lives. */
export const API_REFERENCE_PREFIX = '/api/docs';
export const OPENAPI_PATH = '/openapi.json';

type Json = Record<string, unknown>;

const PATH_PARAMETERS: Record<string, { name: string; description: string }> = {
  study: { name: 'study', description: 'Study Instance UID' },
  series: { name: 'series', description: 'Series Instance UID' },
  instance: { name: 'instance', description: 'SOP Instance UID' },
};
/** The name a wildcard gets in the document, by the segment before it. */
const WILDCARDS: Record<string, { name: string; description: string }> = {
  frames: { name: 'frameList', description: 'comma-separated frame numbers (from 1), optionally followed by /rendered or /thumbnail' },
  bulkdata: { name: 'bulkDataPath', description: 'the path of a BulkDataURI given in the metadata' },
  viewer: { name: 'viewerRoute', description: "a route of the viewer's own (its router takes over in the browser)" },
};

/**
 * Registers @fastify/swagger (must come before the routes: it collects them as they are added),
 * `GET /openapi.json` and the rendered reference at /api/docs. The document is generated from the
 * registered routes: each one's path parameters from its URL, its security from route-access.ts, and
 * the rest from operations.ts (documentation only, never a validation or serialization schema). A
 * route with nothing in operations.ts is left out, and the completeness test fails
 * (packages/e2e/test/openapi.test.ts); only the viewer's static files are one entry, `/{file}`.
 */
export async function installOpenApi(app: FastifyInstance, config: Config): Promise<{ routes(): Promise<void> }> {
  /** Fastify URL → document path, and the URLs that answer other methods with 405. */
  const paths = new Map<string, string>();
  const withAllowOnly = new Set<string>();
  const oidc = config.oidc;
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera DICOMweb server',
        version: VERSION,
        description:
          'STOW-RS, QIDO-RS, WADO-RS and WADO-URI (DICOM PS3.18), JSON for OHIF viewers, and the hosted OHIF viewer. Each operation names the scope it needs (read, write, delete, admin); with AUTH_MODE=none every caller has every scope (docs/security.md). Errors are application/problem+json (RFC 9457) with a stable `code`.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      tags: TAGS.map((tag) => ({ ...tag })),
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'an API key (`tsk_…`, `tessera keys create`) as a bearer token' },
          oidc: oidc
            ? {
                type: 'openIdConnect',
                openIdConnectUrl: `${oidc.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
                description: 'an access token of the OpenID Connect provider',
              }
            : { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'an access token of the configured OpenID Connect provider (OIDC_ISSUER)' },
        },
        schemas: COMPONENT_SCHEMAS,
      },
    },
    transform({ schema, url, route }) {
      const routeClass = route.config?.accessClass;
      const methods = [route.method].flat();
      if (routeClass === 'method-not-allowed') {
        withAllowOnly.add(url);
        return { schema: { hide: true }, url };
      }
      const method = methods[0]!;
      const key = `${method} ${url}`;
      if (!OPERATIONS[key] || methods.length !== 1) return { schema: { ...schema, hide: true }, url };
      const documentUrl = url.replace(/\/([^/]+)\/\*$/, (_, segment: string) => `/${segment}/:${WILDCARDS[segment]?.name ?? 'path'}`);
      paths.set(url, documentUrl.replace(/:(\w+)/g, '{$1}'));
      const access = routeAccess(method, url, routeClass);
      const security: Record<string, string[]>[] = access === 'public' || access === undefined ? [] : [{ apiKey: [access] }, { oidc: [access] }];
      return {
        url: documentUrl,
        schema: {
          operationId: operationId(method, url),
          summary: OPERATIONS[key].summary,
          tags: [OPERATIONS[key].tag],
          // Access (route-access.ts): public, or the scope, shown by either credential.
          security,
          'x-tessera-route': key,
          'x-tessera-scope': access,
        },
      };
    },
    transformObject(documentObject) {
      if (!('openapiObject' in documentObject)) throw new Error('an OpenAPI document was expected');
      return completeDocument(documentObject.openapiObject, paths, withAllowOnly);
    },
  });
  return {
    /** `GET /openapi.json` and the reference page (registered with the other routes, after access control). */
    async routes() {
      app.get(OPENAPI_PATH, async (_request, reply) => reply.type('application/json').send(app.swagger()));
      // Every route of Swagger UI in the api-reference class (route-access.ts), as inRouteClass does.
      await app.register(async (scope) => {
        scope.addHook('onRoute', (route) => {
          route.config = { ...route.config, accessClass: 'api-reference' };
        });
        await scope.register(fastifySwaggerUi, {
          routePrefix: API_REFERENCE_PREFIX,
          uiConfig: { validatorUrl: null, deepLinking: true },
          staticCSP: true,
          transformStaticCSP: referencePolicy,
        });
      });
    },
  };
}

/** The style element Swagger UI 5 (in @fastify/swagger-ui 6.1.3) inserts; the browser test fails if an upgrade changes it. */
const SWAGGER_UI_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/**
 * The reference page's Content-Security-Policy: the plugin's, with nothing from elsewhere (no
 * validator badge, no https: styles or fonts), no upgrade of a plain-HTTP loopback page, and the
 * one inline style Swagger UI inserts allowed by its hash.
 */
function referencePolicy(header: string): string {
  return header
    .replace(/ validator\.swagger\.io/, '')
    .replace(/ ?upgrade-insecure-requests;?/, '')
    .replace(/font-src 'self' https: data:/, "font-src 'self' data:")
    .replace(/style-src 'self' https:/, `style-src 'self' ${SWAGGER_UI_STYLE}`);
}

function operationId(method: string, url: string): string {
  const words = url
    .replace(/\*/g, 'any')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

/** Parameters, bodies and responses (in OpenAPI form) for every operation the transform kept. */
function completeDocument(document: Json, paths: Map<string, string>, withAllowOnly: Set<string>): Json {
  const documentPaths = document.paths as Record<string, Record<string, Json>>;
  const allowOnlyPaths = new Set([...withAllowOnly].map((url) => paths.get(url)));
  for (const [path, item] of Object.entries(documentPaths)) {
    for (const [method, operation] of Object.entries(item)) {
      const key = operation['x-tessera-route'] as string;
      const doc = OPERATIONS[key]!;
      const scoped = operation['x-tessera-scope'] !== 'public';
      delete operation['x-tessera-route'];
      const parameters = [...pathParameters(path), ...queryParameters(doc)];
      if (parameters.length) operation.parameters = parameters;
      else delete operation.parameters;
      operation.description = [doc.description, doc.reference ? `See ${doc.reference}.` : undefined].filter(Boolean).join(' ') || undefined;
      if (operation.description === undefined) delete operation.description;
      if (doc.body) operation.requestBody = { required: true, description: doc.body.description, content: content(doc.body.media) };
      const problems: Record<string, string> = {
        ...(scoped
          ? {
              '401': 'no credential, or one that is not valid',
              '403': 'the credential lacks the scope',
              '429': 'too many refused credentials from this address',
            }
          : {}),
        ...(allowOnlyPaths.has(path) && method !== 'options' ? { '405': 'another method on this resource (the Allow header names the methods)' } : {}),
        ...doc.problems,
      };
      operation.responses = {
        ...Object.fromEntries(
          Object.entries(doc.responses).map(([status, response]) => [
            status,
            { description: response.description, ...(response.media ? { content: content(response.media) } : {}) },
          ]),
        ),
        ...Object.fromEntries(
          Object.entries(problems).map(([status, description]) => [
            status,
            { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
          ]),
        ),
      };
    }
  }
  // The viewer's static files: one route each when served, one entry here.
  documentPaths['/{file}'] = {
    get: {
      operationId: 'getViewerFile',
      summary: "The hosted viewer's static files (bundles, styles, images, WebAssembly), at their path in the viewer's directory",
      tags: ['viewer'],
      security: [],
      parameters: [{ name: 'file', in: 'path', required: true, description: 'a file of the viewer (may contain /)', schema: { type: 'string' } }],
      responses: { '200': { description: 'the file' }, '404': { description: 'no such file' } },
    },
  };
  return document;
}

function pathParameters(path: string): Json[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => {
    const known = PATH_PARAMETERS[name!] ?? Object.values(WILDCARDS).find((w) => w.name === name);
    return { name, in: 'path', required: true, description: known?.description ?? name, schema: { type: 'string' } };
  });
}

function queryParameters(doc: OperationDoc): Json[] {
  const named = Object.entries(doc.query ?? {}).map(([name, p]) => ({
    name,
    in: 'query',
    required: false,
    description: p.description,
    schema: p.schema ?? { type: 'string' },
    ...(p.schema?.type === 'array' ? { style: 'form', explode: true } : {}),
  }));
  if (!doc.attributeMatching) return named;
  return [
    ...named,
    {
      name: 'attributes',
      in: 'query',
      required: false,
      description:
        'attribute matching (PS3.18 §8.3.4): any other query parameter is `{attributeID}={value}`, the attribute by keyword or tag (ggggeeee, or a dotted sequence path); single value, list (\\), wildcard (* ?), range (-) or UID list matching by VR',
      style: 'form',
      explode: true,
      schema: { type: 'object', additionalProperties: { type: 'string' } },
    },
  ];
}

function content(media: readonly Media[]): Json {
  return Object.fromEntries(media.map((m) => [m.type, m.schema ? { schema: m.schema } : {}]));
}

const COMPONENT_SCHEMAS: Record<string, Json> = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details; `code` is stable and says which problem',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string', examples: ['about:blank'] },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string', examples: ['INVALID_UID'] },
    },
    additionalProperties: true,
  },
  DicomJsonDataset: {
    type: 'object',
    description: 'a dataset in the DICOM JSON Model (PS3.18 Annex F): attributes by tag (ggggeeee)',
    propertyNames: { pattern: '^[0-9A-F]{8}$' },
    additionalProperties: {
      type: 'object',
      required: ['vr'],
      properties: {
        vr: { type: 'string', pattern: '^[A-Z]{2}$' },
        Value: { type: 'array' },
        BulkDataURI: { type: 'string' },
        InlineBinary: { type: 'string' },
      },
    },
  },
  Health: {
    type: 'object',
    required: ['status', 'version'],
    properties: { status: { type: 'string', const: 'ok' }, version: { type: 'string', description: 'the release of the server' } },
  },
};
