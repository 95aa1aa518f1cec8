import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { viewerAppConfig } from '@tessera/ohif';
import { SETTINGS } from '@tessera/server';
import { startTestServer } from '@tessera/testkit';

/**
 * Issue #12, section 3: what a new user meets first. The service root answers something useful, a
 * problem's `type` resolves, and the documents agree with the code (each check fails if they drift).
 * The service root touches no storage: the embedded back end is enough.
 */

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const doc = (path: string) => readFileSync(join(root, path), 'utf8');

t.test('GET /dicomweb: what the service offers and where', async (t) => {
  const server = await startTestServer('embedded');
  t.teardown(() => server.close());
  for (const path of ['/dicomweb', '/dicomweb/']) {
    const res = await fetch(`${server.url}${path}`);
    t.equal(res.status, 200, `${path}: 200, not 404`);
    t.match(res.headers.get('content-type'), /^application\/json/);
    const body = (await res.json()) as {
      serviceRoot: string;
      services: { name: string; method: string; href: string }[];
      capabilities: { method: string; href: string };
      documentation: Record<string, string>;
    };
    t.equal(body.serviceRoot, `${server.url}/dicomweb`, 'names the service root');
    t.ok(
      body.services.some((s) => s.name.startsWith('STOW-RS') && s.method === 'POST'),
      'STOW-RS listed',
    );
    t.ok(
      body.services.some((s) => s.name.startsWith('QIDO-RS')),
      'QIDO-RS listed',
    );
    t.ok(
      body.services.some((s) => s.name.startsWith('WADO-RS')),
      'WADO-RS listed',
    );
    t.ok(
      body.services.some((s) => s.name.startsWith('WADO-URI')),
      'WADO-URI listed',
    );
    // The links work: the capabilities document and a search, as announced.
    const caps = await fetch(body.capabilities.href, { method: body.capabilities.method });
    t.equal(caps.status, 200, 'the capabilities document is where it says');
    t.ok(((await caps.json()) as { application?: unknown }).application, 'a WADL-JSON document');
    const search = body.services.find((s) => s.name.startsWith('QIDO-RS (search for studies)'))!;
    t.ok([200, 204].includes((await fetch(search.href, { headers: { accept: 'application/dicom+json' } })).status), 'the study search answers');
    for (const file of Object.values(body.documentation)) {
      const path = file.split(' ')[0]!;
      t.ok(statSync(join(root, path)).isFile(), `documentation ${path} exists in the repository`);
    }
  }
  const xml = await fetch(`${server.url}/dicomweb`, { headers: { accept: 'application/dicom+xml' } });
  t.equal(xml.status, 406, 'an Accept that excludes JSON: 406');
  t.match(xml.headers.get('content-type'), /^application\/problem\+json/);
  // q=0 means "not acceptable" (RFC 9110 §12.4.2): JSON refused, even where the header names it.
  const refused = await fetch(`${server.url}/dicomweb`, { headers: { accept: 'application/json;q=0, application/dicom+xml' } });
  t.equal(refused.status, 406, 'application/json;q=0: 406, not the JSON document');
  const wildcardRefused = await fetch(`${server.url}/dicomweb`, { headers: { accept: '*/*;q=0' } });
  t.equal(wildcardRefused.status, 406, '*/*;q=0: 406');
  const lowered = await fetch(`${server.url}/dicomweb`, { headers: { accept: 'application/dicom+xml, application/json;q=0.2' } });
  t.equal(lowered.status, 200, 'JSON with a low but non-zero q is still acceptable');
});

t.test('problem bodies: type about:blank, the problem named by code', async (t) => {
  const server = await startTestServer('embedded');
  t.teardown(() => server.close());
  const res = await server.app.inject({ method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': 'text/plain' }, payload: 'x' });
  t.equal(res.statusCode, 415);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  t.equal(body.type, 'about:blank', 'no type URI that may not resolve (RFC 9457 §4.2.1)');
  t.equal(body.title, 'Unsupported Media Type', 'title is the status phrase, as about:blank requires');
  t.equal(body.code, 'UNSUPPORTED_MEDIA_TYPE');
  t.match(doc('docs/errors.md'), /`UNSUPPORTED_MEDIA_TYPE`/, 'the code is documented');
  t.notMatch(doc('docs/errors.md'), /github\.com\/tessera-dicom/, 'errors.md shows no unresolvable type URI');
});

t.test('the documents agree with the code', async (t) => {
  const readme = doc('README.md');
  for (const [name] of SETTINGS) t.match(readme, new RegExp(`^\\| \`${name}\` \\|`, 'm'), `README configuration table lists ${name}`);

  const generated =
    /thumbnailRendering: '([^']+)'/.exec(
      viewerAppConfig('https://pacs.example.org', { qidoSupportsIncludeField: true, supportsFuzzyMatching: true, supportsWildcard: true, thumbnails: true }),
    )?.[1] ??
    /"thumbnailRendering":\s*"([^"]+)"/.exec(
      viewerAppConfig('https://pacs.example.org', { qidoSupportsIncludeField: true, supportsFuzzyMatching: true, supportsWildcard: true, thumbnails: true }),
    )?.[1];
  t.ok(generated, `the generated app-config sets thumbnailRendering (${generated})`);
  const documented = /\| `dicomweb` \(default\) \|[^\n]*`thumbnailRendering: '([^']+)'`/.exec(doc('docs/ohif.md'))?.[1];
  t.equal(documented, generated, 'docs/ohif.md gives the thumbnailRendering the server generates');

  const conformance = doc('docs/conformance.md');
  const stow12 = /^\| STOW-12 [^\n]*$/m.exec(conformance)?.[0] ?? '';
  t.match(stow12, /application\/dicom\+xml[^|]*406/, 'conformance.md: an XML-only Accept on STOW-RS gets 406, as the code answers');
  t.notMatch(stow12, /gets JSON/, 'conformance.md no longer says it gets JSON');
  for (const path of ['docs/architecture.md', 'docs/conformance.md']) {
    t.notMatch(doc(path), /full disk[^.|]*0110|blob write failure → `0110`/i, `${path}: a full disk is A700 (out of resources), not 0110`);
  }
});

t.test('error messages cite PS3.18, not the digest that is not in the repository', async (t) => {
  // String literals of production code (comments may keep the checklist's rule IDs).
  const citation = /['"`][^'"`]*(\(digest\b|\b(STOW|QIDO|WADORS|WADOURI|NEG|MATCH|COMMON|DATA|CAP|JSON|DEL)-\d+\b|\(D\d{2}\))[^'"`]*['"`]/;
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name === 'node_modules' || name === 'dist' || name === 'viewer') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.endsWith('.contract.ts') && path.includes(`${join('src', '')}`)) {
        readFileSync(path, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            const code = line.trim();
            if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return;
            if (citation.test(code.split(' // ')[0]!)) offenders.push(`${relative(root, path)}:${i + 1}`);
          });
      }
    }
  };
  for (const pkg of readdirSync(join(root, 'packages'))) {
    if (['e2e', 'testkit', 'test-data', 'bench', 's3-test-server'].includes(pkg)) continue;
    walk(join(root, 'packages', pkg, 'src'));
  }
  t.same(offenders, [], 'no error message cites a digest rule ID');
});

t.test('docker-compose.yml and Dockerfile: pinned, healthy, lean, unprivileged (checked by reading: no Docker here)', async (t) => {
  const compose = doc('docker-compose.yml');
  const images = [...compose.matchAll(/^\s+image:\s*(\S+)/gm)].map((m) => m[1]!).filter((image) => image !== 'tessera:local');
  t.ok(images.length >= 2, `images: ${images.join(', ')}`);
  for (const image of images) {
    t.match(image, /:[^:]*\d[^:]*$/, `${image} is pinned to a release`);
    t.notMatch(image, /:latest$|^minio\//, `${image}: no latest, no Docker Hub MinIO`);
  }
  // Each long-running service declares a health check (the one-shot minio-init is waited for to finish).
  const servicesSection = compose.slice(compose.indexOf('\nservices:'), compose.indexOf('\nvolumes:'));
  const services = servicesSection.split(/\n(?= {2}[a-z][\w-]*:\n)/).filter((block) => /^ {2}[a-z]/.test(block));
  t.same(
    services.map((block) => /^ {2}([\w-]+):/.exec(block)![1]),
    ['postgres', 'minio', 'minio-init', 'tessera'],
    'the four services',
  );
  for (const block of services) {
    const name = /^ {2}([\w-]+):/.exec(block)![1]!;
    if (/restart: "no"/.test(block)) continue;
    t.match(block, /healthcheck:\n\s+test:/, `${name} has a health check`);
  }

  const dockerfile = doc('Dockerfile');
  const major = Number(/ARG NODE_IMAGE=node:(\d+)\./.exec(dockerfile)?.[1]);
  t.ok(major >= 22 && major % 2 === 0, `a supported LTS Node.js (${major})`);
  t.ok(
    dockerfile.indexOf('COPY --chown=node:node pnpm-lock.yaml') < dockerfile.indexOf('COPY --chown=node:node . .'),
    'dependencies before the source (layer cache)',
  );
  t.match(dockerfile, /pnpm install --frozen-lockfile --offline --prod --ignore-scripts/, 'production dependencies only in the image');
  t.match(dockerfile, /rm -rf node_modules/, 'devDependencies removed, not only unlinked');
  t.match(dockerfile, /test -f packages\/ohif\/viewer\/index\.html[^\n]*\n[^\n]*exit 1/, 'the build fails without the viewer');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  t.match(dockerfile, /^USER node$/m, 'runs as the unprivileged node user');
  t.notMatch(finalStage, /^USER root$/m, 'the final stage does not switch back to root');
  t.match(finalStage, /^HEALTHCHECK /m, 'declares a HEALTHCHECK');
  t.match(doc('.dockerignore'), /^packages\/test-data\/dicom$/m, 'the test data stays out of the image');
});
