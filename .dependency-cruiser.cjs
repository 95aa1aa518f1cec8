// Dependency rules CI enforces (docs/architecture.md, "Boundaries CI enforces"). Run: `pnpm deps:check`.
// Packages are matched by path pattern, so packages that appear later (retrieve, lifecycle, access)
// fall into their layer without a change here.

/** Test-side code: test files, `./testing` subpaths, contract suites, and the private test packages. */
const TEST = '(\\.test\\.ts$|\\.contract\\.ts$|/src/testing/|^packages/[^/]+/test/|^packages/(testkit|e2e|bench|reliability|s3-test-server|test-data)/)';
/** Every workspace package. */
const WORKSPACE = '^(packages/[^/]+|migrations)/';
const pkg = (names) => `^packages/(${names.join('|')})/`;

const FOUNDATION = ['dicom'];
const BASE = ['http', 'index', 'blob-store', 'imaging'];
const ACCESS = ['access'];
const RETRIEVE = ['retrieve', 'stored-objects'];
const SERVICES = ['stow-rs', 'qido-rs', 'wado-rs', 'wado-uri', 'ohif', 'lifecycle'];
/** Clients of a DICOMweb server (any server, not only ours): the upload CLI's engine. */
const CLIENTS = ['upload'];
const TEST_PACKAGES = ['testkit', 'e2e', 'bench', 'reliability', 's3-test-server', 'test-data'];

/** Production files of the given packages may import only these workspace packages (and themselves). */
function layer(name, from, allowed) {
  return {
    name: `layer-${name}`,
    severity: 'error',
    comment: `${name} may use only ${allowed.join(', ') || 'no other workspace package'} (docs/architecture.md, layers)`,
    from: { path: pkg(from), pathNot: TEST },
    to: { path: WORKSPACE, pathNot: `^(packages/(${[...allowed, '$1'].join('|')})|${allowed.includes('migrations') ? 'migrations' : '(?!)'})/` },
  };
}

/** A third-party SDK imported only by its owner packages. */
function sdk(name, modulePattern, owners) {
  return {
    name: `sdk-${name}`,
    severity: 'error',
    comment: `${name} is imported only by ${owners.join(', ')} (one package per SDK)`,
    from: { pathNot: `^(${owners.map((o) => (o === 'migrations' ? 'migrations' : `packages/${o}`)).join('|')})/` },
    to: { path: `(^|/)node_modules/(${modulePattern})/` },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'every import resolves (an undeclared dependency does not)',
      from: {},
      to: { couldNotResolve: true },
    },
    { name: 'no-circular', severity: 'error', comment: 'no import cycles', from: {}, to: { circular: true } },
    layer('dicom', FOUNDATION, []),
    layer('http', ['http'], ['dicom']),
    {
      name: 'layer-migrations',
      severity: 'error',
      comment: 'migrations are frozen in time and import no application code',
      from: { path: '^migrations/' },
      to: { path: '^packages/' },
    },
    layer('index', ['index'], ['dicom', 'migrations']),
    layer('blob-store', ['blob-store'], ['dicom']),
    layer('imaging', ['imaging'], ['dicom']),
    layer('access', ACCESS, ['dicom', 'http']),
    layer('retrieve', RETRIEVE, ['dicom', 'http', 'index', 'blob-store', 'imaging']),
    layer('services', SERVICES, [...FOUNDATION, ...BASE, ...ACCESS, ...RETRIEVE]),
    layer('server', ['server'], [...FOUNDATION, ...BASE, ...ACCESS, ...RETRIEVE, ...SERVICES]),
    layer('clients', CLIENTS, [...FOUNDATION]),
    layer('cli', ['cli'], [...FOUNDATION, ...BASE, ...ACCESS, ...RETRIEVE, ...SERVICES, 'server', ...CLIENTS]),
    {
      name: 'no-test-helpers-in-production',
      severity: 'error',
      comment: 'production code (src/** except tests and src/testing/**) never imports test helpers',
      from: { path: '^(packages/[^/]+/src|migrations)/', pathNot: TEST },
      to: { path: `(${pkg(TEST_PACKAGES)}|/src/testing/|(^|/)node_modules/(tap|@tapjs/[^/]+)/)` },
    },
    sdk('dcmjs', 'dcmjs', ['dicom']),
    sdk('aws-sdk', '@aws-sdk/[^/]+', ['blob-store']),
    sdk('kysely', 'kysely', ['index', 'migrations']),
    sdk('pg', 'pg|@electric-sql/pglite|kysely-pglite-dialect', ['index']),
    sdk('imaging-codecs', 'dcmjs-codecs|dcmjs-imaging|sharp', ['imaging']),
    sdk('jose', 'jose', ['access']),
    sdk('fastify-static', '@fastify/static', ['ohif']),
    sdk('fastify-multipart', '@fastify/multipart', ['stow-rs']),
    sdk('cli-progress', 'cli-progress', ['upload']),
    sdk('fastify-swagger', '@fastify/swagger|@fastify/swagger-ui', ['server']),
    sdk('prom-client', 'prom-client', ['server']),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^packages/[^/]+/(dist|\\.tap|\\.cache)/', '^artifacts/', '^packages/ohif/viewer/', '^packages/test-data/dicom/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      conditionNames: ['@tessera/source', 'import', 'require', 'node', 'default'],
      exportsFields: ['exports'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
  },
};
