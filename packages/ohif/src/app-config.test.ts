import { runInNewContext } from 'node:vm';
import t from 'tap';
import { type ViewerCapabilities, viewerAppConfig } from './app-config.js';

/** The hosted viewer's app-config.js: run as a browser would, then its data sources checked. */

interface Evaluated {
  PUBLIC_URL: string;
  config: { routerBasename: string; defaultDataSourceName: string; dataSources: { sourceName: string; configuration: Record<string, unknown> }[] };
}

const run = (script: string): Evaluated => {
  const window = {} as Evaluated;
  runInNewContext(script, { window });
  return window;
};
const ALL: ViewerCapabilities = { qidoSupportsIncludeField: true, supportsFuzzyMatching: true, supportsWildcard: true, thumbnails: true };

t.test('data sources on this server, at the public base URL (digest §11)', async (t) => {
  const cases = [
    { base: 'http://127.0.0.1:8080', publicUrl: '/', router: '/' },
    { base: 'https://pacs.example.org/tessera', publicUrl: '/tessera/', router: '/tessera' },
    { base: 'https://pacs.example.org/a/b/', publicUrl: '/a/b/', router: '/a/b' },
  ];
  for (const c of cases) {
    const window = run(viewerAppConfig(c.base, ALL));
    t.equal(window.PUBLIC_URL, c.publicUrl, `${c.base}: PUBLIC_URL`);
    t.equal(window.config.routerBasename, c.router, `${c.base}: routerBasename`);
    t.equal(window.config.defaultDataSourceName, 'dicomweb');
    const [dicomweb, dicomjson] = window.config.dataSources;
    t.match(
      dicomweb,
      {
        sourceName: 'dicomweb',
        configuration: { qidoRoot: `${c.base}/dicomweb`, wadoRoot: `${c.base}/dicomweb`, wadoUriRoot: `${c.base}/wadouri`, imageRendering: 'wadors' },
      },
      `${c.base}: roots`,
    );
    t.match(dicomjson, { sourceName: 'dicomjson' }, 'the dicomjson data source is there too');
  }
});

t.test('the flags promise what the server supports, no more', async (t) => {
  const none: ViewerCapabilities = { qidoSupportsIncludeField: false, supportsFuzzyMatching: false, supportsWildcard: false, thumbnails: false };
  for (const capabilities of [ALL, none]) {
    const configuration = run(viewerAppConfig('http://h', capabilities)).config.dataSources[0]!.configuration;
    t.match(
      configuration,
      {
        qidoSupportsIncludeField: capabilities.qidoSupportsIncludeField,
        supportsFuzzyMatching: capabilities.supportsFuzzyMatching,
        supportsWildcard: capabilities.supportsWildcard,
        thumbnailRendering: capabilities.thumbnails ? 'thumbnail' : 'wadors',
        supportsReject: false,
      },
      JSON.stringify(capabilities),
    );
  }
});

t.test('a base URL cannot break out of the script', async (t) => {
  const script = viewerAppConfig('https://pacs.test/x";alert(1);"', ALL);
  const window = run(script);
  t.equal(window.config.dataSources[0]!.configuration.qidoRoot, 'https://pacs.test/x";alert(1);"/dicomweb', 'the URL is a JSON string value');
});
