import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileErrors, validate } from '@readme/openapi-parser';
import t, { type Test } from 'tap';
import { DEFAULT_VIEWER_DIR } from '@tessera/ohif';
import { registeredRoutes } from '@tessera/server';
import { startTestServer } from '@tessera/testkit';

/**
 * Issue #16 (Describe and observe): `/openapi.json` describes every route the server registers, and
 * is a valid OpenAPI 3.1 document; the rendered reference at /api/docs is served from the installed
 * package (nothing from a CDN). No storage is involved: the embedded back end is enough.
 */

type Operation = {
  operationId: string;
  security: Record<string, string[]>[];
  'x-tessera-scope'?: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
};
type Document = { openapi: string; info: { version: string }; paths: Record<string, Record<string, Operation>> };

/** A route pattern or document path with every parameter and wildcard written alike. */
const shape = (path: string) => path.replace(/:\w+|\{\w+\}|\*/g, '{}');

t.test('/openapi.json: valid OpenAPI 3.1, every registered route in it with its scope; the reference page', async (t) => {
  // API keys on: the document and the reference page must be public all the same.
  const server = await startTestServer('embedded', { AUTH_MODE: 'apikey' });
  t.teardown(() => server.close());
  const response = await fetch(`${server.url}/openapi.json`);
  t.equal(response.status, 200, 'public: no credential needed');
  t.match(response.headers.get('content-type'), /^application\/json/);
  const document = (await response.json()) as Document;
  t.equal(document.openapi, '3.1.0');
  t.match(document.info.version, /^\d+\.\d+\.\d+/, 'the release version');

  const result = await validate(structuredClone(document) as never);
  t.ok(result.valid, result.valid ? 'valid against the OpenAPI 3.1 schema' : compileErrors(result));
  t.same(result.warnings, [], 'no warnings');

  const documented = new Map<string, Operation>();
  for (const [path, item] of Object.entries(document.paths))
    for (const [method, op] of Object.entries(item)) documented.set(`${method.toUpperCase()} ${shape(path)}`, op);

  const missing: string[] = [];
  const staticFiles: string[] = [];
  let checked = 0;
  for (const route of registeredRoutes(server.app)) {
    if (route.method === 'HEAD') continue; // GET's twin
    // The 405 answers are documented as a 405 response of the resource's operations (below).
    if (route.routeClass === 'method-not-allowed') continue;
    const op = documented.get(`${route.method} ${shape(route.url)}`);
    if (route.routeClass === 'api-reference') {
      t.notOk(op, `${route.url} is the reference page itself, not part of the API`);
      continue;
    }
    if (!op) {
      // The viewer's static files are one entry, /{file}: each must really be a file of the viewer.
      const file = join(DEFAULT_VIEWER_DIR, route.url);
      if (route.routeClass === 'viewer' && existsSync(file) && statSync(file).isFile()) staticFiles.push(route.url);
      else missing.push(`${route.method} ${route.url}`);
      continue;
    }
    checked++;
    t.equal(op['x-tessera-scope'], route.access, `${route.method} ${route.url}: the scope of route-access.ts`);
    if (route.access === 'public') t.same(op.security, [], `${route.method} ${route.url}: no credential asked`);
    else t.same(op.security, [{ apiKey: [route.access] }, { oidc: [route.access] }], `${route.method} ${route.url}: either credential with the scope`);
  }
  t.same(missing, [], 'every registered route is documented');
  t.ok(checked > 40, `${checked} operations checked`);
  t.ok(staticFiles.length > 0 && documented.has('GET /{}'), `${staticFiles.length} static files of the viewer, documented as /{file}`);

  await t.test('DICOMweb media types, problem+json errors, parameters', async (t) => mediaTypesAndParameters(t, document));
  await t.test('the rendered reference: Swagger UI from the installed package, public, nothing fetched elsewhere', async (t) => referencePage(t, server.url));
});

function mediaTypesAndParameters(t: Test, document: Document): void {
  const op = (path: string, method: string) => document.paths[path]![method]!;

  const stow = op('/dicomweb/studies', 'post');
  t.same(
    Object.keys(stow.requestBody!.content).sort(),
    [
      'application/dicom',
      'multipart/related; type="application/dicom"',
      'multipart/related; type="application/dicom+json"',
      'multipart/related; type="application/dicom+xml"',
    ],
    'STOW-RS request media types',
  );
  t.ok(
    stow.responses['200']!.content!['application/dicom+json'] && stow.responses['200']!.content!['application/dicom+xml'],
    'STOW-RS response in JSON or XML',
  );
  for (const status of ['400', '401', '403', '405', '408', '413', '415', '503'])
    t.equal(stow.responses[status]?.content?.['application/problem+json']?.schema?.$ref, '#/components/schemas/Problem', `STOW-RS ${status} is a Problem`);

  const qido = op('/dicomweb/studies', 'get');
  t.ok(qido.responses['200']!.content!['application/dicom+json'], 'QIDO-RS answers DICOM JSON');
  t.ok(qido.responses['200']!.content!['multipart/related; type="application/dicom+xml"'], 'or DICOM XML parts');
  t.ok(qido.responses['204'], 'and 204 when nothing matches');
  const names = qido.parameters!.map((p) => `${p.in}:${p.name}`);
  for (const name of ['limit', 'offset', 'includefield', 'fuzzymatching', 'attributes']) t.ok(names.includes(`query:${name}`), `QIDO-RS parameter ${name}`);

  const instance = op('/dicomweb/studies/{study}/series/{series}/instances/{instance}', 'get');
  t.same(
    instance.parameters!.map((p) => `${p.in}:${p.name}`),
    ['path:study', 'path:series', 'path:instance'],
    'path parameters',
  );
  t.ok(instance.responses['200']!.content!['multipart/related; type="application/dicom"; transfer-syntax=*'], 'WADO-RS instances as multipart DICOM');
  t.ok(op('/dicomweb/studies/{study}/rendered', 'get').responses['200']!.content!['image/jpeg'], 'rendered as JPEG');
  t.ok(op('/wado', 'get').responses['200']!.content!['application/dicom'], 'WADO-URI DICOM');
  t.ok(op('/api/audit', 'get').responses['200']!.content!['application/x-ndjson'], 'the audit trail as JSON lines');
  t.same(op('/healthz', 'get').security, [], 'health is public');
  t.same(op('/metrics', 'get').security, [{ apiKey: ['admin'] }, { oidc: ['admin'] }], 'metrics take the admin scope');
}

async function referencePage(t: Test, url: string): Promise<void> {
  const page = await fetch(`${url}/api/docs`);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /^text\/html/);
  const html = await page.text();
  const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  t.ok(sources.length > 0, 'the page loads scripts and styles');
  t.same(
    sources.filter((s) => /^(https?:)?\/\//.test(s)),
    [],
    'all of them from this server',
  );
  for (const source of sources) {
    const asset = await fetch(new URL(source, `${url}/api/docs/`));
    t.equal(asset.status, 200, `${source} is served`);
    await asset.arrayBuffer();
  }
  const csp = page.headers.get('content-security-policy') ?? '';
  t.match(csp, /script-src 'self'/, 'its own Content-Security-Policy');
  t.notMatch(csp, /upgrade-insecure-requests|validator\.swagger\.io/, 'nothing upgraded or fetched elsewhere');
  const initializer = await (await fetch(`${url}/api/docs/static/swagger-initializer.js`)).text();
  t.match(initializer, /validatorUrl["']?:\s*null/, 'no online validator');
}
