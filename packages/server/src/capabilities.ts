/**
 * The Retrieve Capabilities resource (PS3.18 §8.9, Annex H; digest CAP-1) in the JSON form of
 * the WADL document (Annex G): what this server actually serves, derived from its routes.
 */
const TRANSACTIONS: Record<string, string> = {
  'POST /studies': 'StoreInstances',
  'POST /studies/{study}': 'StoreInstancesInStudy',
  'GET /studies': 'SearchForStudies',
  'GET /series': 'SearchForSeries',
  'GET /instances': 'SearchForInstances',
  'GET /studies/{study}/series': 'SearchForStudySeries',
  'GET /studies/{study}/instances': 'SearchForStudyInstances',
  'GET /studies/{study}/series/{series}/instances': 'SearchForStudySeriesInstances',
  'GET /studies/{study}': 'RetrieveStudy',
  'GET /studies/{study}/series/{series}': 'RetrieveSeries',
  'GET /studies/{study}/series/{series}/instances/{instance}': 'RetrieveInstance',
  'GET /studies/{study}/metadata': 'RetrieveStudyMetadata',
  'GET /studies/{study}/series/{series}/metadata': 'RetrieveSeriesMetadata',
  'GET /studies/{study}/series/{series}/instances/{instance}/metadata': 'RetrieveInstanceMetadata',
  'GET /studies/{study}/series/{series}/instances/{instance}/frames/{frames}': 'RetrieveFrames',
};

export interface CapabilitiesDocument {
  application: { resources: { '@base': string; resource: { '@path': string; method: { '@name': string; '@id': string }[] }[] } };
}

/** `routes`: route URL (fastify syntax, below the service root) → methods. */
export function capabilities(serviceUrl: string, routes: Map<string, Set<string>>): CapabilitiesDocument {
  const resource = [...routes]
    .map(([url, methods]) => {
      const path = url.replace(/:(\w+)/g, '{$1}').replace(/\*/g, '{path}');
      return {
        '@path': path.replace(/^\//, ''),
        method: [...methods].sort().map((name) => ({ '@name': name, '@id': TRANSACTIONS[`${name} ${path}`] ?? `${name} ${path}` })),
      };
    })
    .sort((a, b) => (a['@path'] < b['@path'] ? -1 : 1));
  return { application: { resources: { '@base': serviceUrl, resource } } };
}
