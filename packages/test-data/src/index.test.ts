import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { REPOSITORY_ROOT, TEST_DICOM, isInside, readBadIndex, readShared, sharedFiles, testDataPath } from './index.js';

// Issue #12, section 2: a clone with nothing beside it passes its tests. The data lives inside the
// repository with its licences and provenance, and nothing reads from outside it.

t.test('the test data is inside the repository', async (t) => {
  t.ok(existsSync(join(REPOSITORY_ROOT, 'pnpm-workspace.yaml')), `${REPOSITORY_ROOT} is the repository root`);
  t.ok(isInside(REPOSITORY_ROOT, TEST_DICOM), `${TEST_DICOM} is inside ${REPOSITORY_ROOT}`);
  t.equal(relative(REPOSITORY_ROOT, TEST_DICOM), join('packages', 'test-data', 'dicom'));
});

t.test('no path leaves the test-data folder', async (t) => {
  for (const path of ['../package.json', '../../../../elsewhere/dicom/MANIFEST.tsv', '/etc/passwd', 'bad/../../src/index.ts']) {
    t.throws(() => readShared(path), /outside/, `readShared(${JSON.stringify(path)}) refused`);
    t.throws(() => sharedFiles(path), /outside/, `sharedFiles(${JSON.stringify(path)}) refused`);
  }
  t.equal(testDataPath('bad/../MANIFEST.tsv'), join(TEST_DICOM, 'MANIFEST.tsv'), 'a path that stays inside is allowed');
});

t.test('every data file has its provenance, licence sources and manifest row', async (t) => {
  const table = (name: string) => {
    const [header, ...lines] = readFileSync(testDataPath(name), 'utf8').trim().split(/\r?\n/);
    const columns = header!.split('\t');
    return lines.map((line) => Object.fromEntries(line.split('\t').map((cell, i) => [columns[i]!, cell])));
  };
  const provenance = new Map(table('PROVENANCE.tsv').map((row) => [row.path!, row]));
  const manifest = new Set(table('MANIFEST.tsv').map((row) => row.path!));
  const real = sharedFiles().filter((path) => !path.startsWith('bad/'));
  t.ok(real.length >= 250, `${real.length} real files`);
  t.same([...provenance.keys()].sort(), real, 'PROVENANCE.tsv lists exactly the real files');
  t.same([...manifest].sort(), real, 'MANIFEST.tsv lists exactly the real files');
  let mismatches = 0;
  for (const path of real) {
    const bytes = readShared(path);
    const row = provenance.get(path)!;
    if (String(bytes.length) !== row.bytes || createHash('sha256').update(bytes).digest('hex').slice(0, 16) !== row.sha256_16) {
      mismatches++;
      t.fail(`${path}: size or SHA-256 differs from PROVENANCE.tsv`);
    }
  }
  t.equal(mismatches, 0, 'every file is byte for byte the one recorded in PROVENANCE.tsv');
  t.ok(readdirSync(testDataPath('LICENSES')).length >= 10, 'the licence texts of the sources are kept with the data');
  t.same(sharedFiles('bad').map((path) => path.slice('bad/'.length)).sort(), readBadIndex().map((row) => row.file).sort(),
    'bad/INDEX.tsv lists exactly the generated files');
});

t.test('nothing in the repository reads test data from beside it', async (t) => {
  // The old default (a shared/dicom folder beside the clone, reached by a parent path) and its environment override.
  const forbidden = /\.\.\/shared\b|TESSERA_SHARED_DICOM|\/work\/shared/;
  // Not the repository's own files: installed packages, fetched viewers and caches (.gitignore).
  const skip = new Set(['node_modules', '.git', 'viewer', 'dist', 'data', 'artifacts', '.tap', '.cache']);
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (!skip.has(name) && !name.startsWith('.bench') && path !== TEST_DICOM) walk(path);
      } else if (/\.(ts|mts|js|mjs|cjs|json|ya?ml|md|sh)$|^run$|^Dockerfile$/.test(name) && path !== testFile) {
        if (forbidden.test(readFileSync(path, 'utf8'))) offenders.push(relative(REPOSITORY_ROOT, path));
      }
    }
  };
  const testFile = new URL(import.meta.url).pathname;
  for (const top of ['packages', 'docs', 'migrations', '.ci']) if (existsSync(join(REPOSITORY_ROOT, top))) walk(join(REPOSITORY_ROOT, top));
  for (const file of ['README.md', 'package.json', 'Dockerfile', 'docker-compose.yml']) {
    const path = join(REPOSITORY_ROOT, file);
    if (existsSync(path) && forbidden.test(readFileSync(path, 'utf8'))) offenders.push(file);
  }
  t.same(offenders, [], 'no file reaches the old test-data folder beside the clone, or TESSERA_SHARED_DICOM');
});
