import { readFileSync } from 'node:fs';

/**
 * The release of the server, in one place: the `version` of @tessera/server's package.json, which
 * every package of the workspace and the root share (CHANGELOG.md names the releases). Read at run
 * time from src/ and from dist/ alike (both sit one level below the package directory).
 */
export const VERSION: string = readVersion();

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string' || !/^\d+\.\d+\.\d+/.test(pkg.version)) throw new Error('packages/server/package.json has no release version');
  return pkg.version;
}
