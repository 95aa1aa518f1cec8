// Compiles the server for production: every TypeScript source of @tessera/cli and the workspace
// packages it depends on (migrations included) to JavaScript in that package's dist/, file for file,
// so that relative paths (`import.meta.url`, createRequire) mean the same as in src/. Each package's
// `exports` sends plain `node` to dist/ and tsx, tests and the benchmark (--conditions=@tessera/source)
// to src/. No type checking here: `pnpm typecheck` does that.
//
// Why: the server run from source with tsx carries its loader thread, the transpiler and the source
// maps (≈ 33 MB more resident for an idle script, ≈ 55 MB for the server; docs/benchmarks.md).
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const started = performance.now();

/** Workspace package directories by name. */
const workspace = new Map();
for (const dir of [...readdirSync(join(root, 'packages')).map((d) => join(root, 'packages', d)), join(root, 'migrations')]) {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    workspace.set(pkg.name, { dir, pkg });
  } catch {
    // not a package
  }
}

/** @tessera/cli and every workspace package it needs at run time. */
const needed = new Set();
const visit = (name) => {
  if (needed.has(name) || !workspace.has(name)) return;
  needed.add(name);
  for (const dep of Object.keys(workspace.get(name).pkg.dependencies ?? {})) visit(dep);
};
visit('@tessera/cli');

/** The production sources of a package: tests and the test helpers of `src/testing/` (the `./testing` subpath) are left out. */
const sources = (dir) =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === 'node_modules' || entry === 'dist' || entry === 'scripts' || entry === 'testing') return [];
    if (statSync(path).isDirectory()) return sources(path);
    return entry.endsWith('.ts') && !entry.endsWith('.test.ts') && !entry.endsWith('.d.ts') ? [path] : [];
  });

let files = 0;
for (const name of needed) {
  const { dir, pkg } = workspace.get(name);
  const srcDir = existsDir(join(dir, 'src')) ? join(dir, 'src') : dir;
  const entryPoints = sources(srcDir);
  const outdir = join(dir, 'dist');
  // @tessera/cli is the program (dist/main.js), not a library: nothing imports it, so it has no exports.
  const expected = pkg.exports?.['.']?.default;
  if (name !== '@tessera/cli' && expected !== './dist/index.js') throw new Error(`${name}: exports["."].default must be ./dist/index.js, not ${expected}`);
  const { outputFiles } = await build({
    entryPoints,
    outdir,
    outbase: srcDir,
    bundle: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    write: false,
  });
  // A file is replaced only when its content changed, and atomically (temp file + rename): a server
  // started from dist/ while another build runs (tests in parallel) never reads a half-written file.
  const written = new Set();
  for (const output of outputFiles) {
    written.add(output.path);
    if (sameContent(output.path, output.contents)) continue;
    mkdirSync(dirname(output.path), { recursive: true });
    const temp = `${output.path}.${process.pid}.tmp`;
    writeFileSync(temp, output.contents);
    renameSync(temp, output.path);
  }
  for (const stale of listFiles(outdir)) if (!written.has(stale) && !stale.endsWith('.tmp')) rmSync(stale, { force: true });
  files += entryPoints.length;
  console.log(`built ${name}: ${entryPoints.length} files → ${relative(root, outdir)}`);
}
console.log(`built ${needed.size} packages, ${files} files in ${((performance.now() - started) / 1000).toFixed(1)} s`);

function sameContent(path, contents) {
  try {
    return Buffer.compare(readFileSync(path), contents) === 0;
  } catch {
    return false;
  }
}

function listFiles(dir) {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath ?? e.path, e.name));
  } catch {
    return [];
  }
}

function existsDir(path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
