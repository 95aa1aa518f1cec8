import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import t from 'tap';
import { ROUTE_CLASSES, assertEveryRouteDecided, registeredRoutes, trackRoutes } from '@tessera/server';
import { REPOSITORY_ROOT, startTestServer } from '@tessera/testkit';

/**
 * Issue #13: docs/security.md lists every route with its scope; this compares that table with the
 * routes the server actually registers, both ways, so a new route without a documented decision
 * fails here (and one without a decision in route-access.ts fails at start-up).
 */

function documentedTable(): { explicit: Map<string, string>; classes: Map<string, string> } {
  const page = readFileSync(join(REPOSITORY_ROOT, 'docs/security.md'), 'utf8');
  const table = /<!-- route-table:start -->([\s\S]*?)<!-- route-table:end -->/.exec(page)?.[1];
  if (!table) throw new Error('docs/security.md has no route table between the route-table markers');
  const explicit = new Map<string, string>();
  const classes = new Map<string, string>();
  for (const line of table.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.length < 3 || cells[0] === 'Method' || cells[0]!.startsWith('---')) continue;
    const [method, route, scope] = cells as [string, string, string];
    if (method === '(class)') classes.set(route, scope);
    else explicit.set(`${method} ${route.replace(/^`|`$/g, '')}`, scope);
  }
  return { explicit, classes };
}

t.test('docs/security.md lists exactly the routes the server registers, with the same scopes', async (t) => {
  const server = await startTestServer('embedded', { AUTH_MODE: 'apikey' });
  t.teardown(() => server.close());
  const documented = documentedTable();
  const registered = new Map<string, string>();
  const classes = new Map<string, string>();
  for (const route of registeredRoutes(server.app)) {
    if (route.routeClass) classes.set(route.routeClass, String(route.access));
    else registered.set(`${route.method === 'HEAD' ? 'GET' : route.method} ${route.url}`, String(route.access));
  }
  t.ok(registered.size > 30, `${registered.size} routes decided one by one`);
  t.same(
    [...registered.keys()].filter((key) => !documented.explicit.has(key)),
    [],
    'every registered route is in the docs table',
  );
  t.same(
    [...documented.explicit.keys()].filter((key) => !registered.has(key)),
    [],
    'every route in the docs table is registered',
  );
  for (const [key, scope] of registered)
    if (documented.explicit.get(key) !== scope) t.fail(`${key}: registered as ${scope}, documented as ${documented.explicit.get(key)}`);
  t.same(Object.fromEntries(classes), Object.fromEntries(documented.classes), 'the route classes and their decisions match');
  t.same([...classes.keys()].sort(), Object.keys(ROUTE_CLASSES).sort(), 'both classes have routes');
});

t.test('a route without a decision stops start-up', async (t) => {
  const app = Fastify();
  trackRoutes(app);
  app.get('/healthz', async () => 'ok');
  t.doesNotThrow(() => assertEveryRouteDecided(app), 'a decided route passes');
  app.get('/api/undecided', async () => 'secret');
  t.throws(() => assertEveryRouteDecided(app), /routes without an access decision.*GET \/api\/undecided/, 'names the route');
  await app.close();
});
