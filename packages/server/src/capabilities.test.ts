import t from 'tap';
import { WADL_NAMESPACE, capabilities, capabilitiesWadl } from './capabilities.js';

/** The Retrieve Capabilities resource (digest CAP-1), derived from the routes a server has. */

const routes = new Map([
  ['/studies/:study/series/:series/instances/:instance/frames/:frames', new Set(['GET'])],
  ['/studies', new Set(['POST', 'GET'])],
  ['/studies/:study', new Set(['GET', 'POST'])],
  ['/studies/:study/thumbnail', new Set(['GET'])],
  ['/wado/*', new Set(['GET'])],
]);

t.test('the JSON form: paths in template syntax, sorted, each method named by its transaction', async (t) => {
  t.same(
    capabilities('https://pacs.test/dicomweb', routes),
    {
      application: {
        resources: {
          '@base': 'https://pacs.test/dicomweb',
          resource: [
            {
              '@path': 'studies',
              method: [
                { '@name': 'GET', '@id': 'SearchForStudies' },
                { '@name': 'POST', '@id': 'StoreInstances' },
              ],
            },
            {
              '@path': 'studies/{study}',
              method: [
                { '@name': 'GET', '@id': 'RetrieveStudy' },
                { '@name': 'POST', '@id': 'StoreInstancesInStudy' },
              ],
            },
            { '@path': 'studies/{study}/series/{series}/instances/{instance}/frames/{frames}', method: [{ '@name': 'GET', '@id': 'RetrieveFrames' }] },
            { '@path': 'studies/{study}/thumbnail', method: [{ '@name': 'GET', '@id': 'GET /studies/{study}/thumbnail' }] },
            { '@path': 'wado/{path}', method: [{ '@name': 'GET', '@id': 'GET /wado/{path}' }] },
          ],
        },
      },
    },
    'a route without a transaction name is identified by method and path',
  );
  t.same(capabilities('http://h', new Map()).application.resources.resource, [], 'no routes, no resources');
});

t.test('the WADL form: the inverse of the Annex G mapping, escaped', async (t) => {
  const xml = capabilitiesWadl(capabilities('https://pacs.test/a&b"', new Map([['/studies', new Set(['GET'])]])));
  t.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<application xmlns="${WADL_NAMESPACE}"><resources base="https://pacs.test/a&amp;b&quot;">` +
      '<resource path="studies"><method name="GET" id="SearchForStudies"/></resource></resources></application>\n',
  );
  t.match(capabilitiesWadl(capabilities('http://h', new Map())), /<resources base="http:\/\/h"\/><\/application>/, 'an empty element is self-closed');
});
