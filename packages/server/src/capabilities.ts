import { escapeAttribute, escapeText } from '@tessera/dicom';
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
  // Not PS3.18 transactions: the deletion of the Microsoft DICOM service and dcm4chee's shape (digest DEL-2).
  'DELETE /studies/{study}': 'DeleteStudy',
  'DELETE /studies/{study}/series/{series}': 'DeleteSeries',
  'DELETE /studies/{study}/series/{series}/instances/{instance}': 'DeleteInstance',
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

/** The WADL namespace (PS3.18 Annex H: the capabilities document is a WADL document). */
export const WADL_NAMESPACE = 'http://wadl.dev.java.net/2009/02';

/**
 * The capabilities document in its native form, WADL XML (`application/vnd.sun.wadl+xml`), written
 * from the JSON form by the inverse of the Annex G mapping: each object is an element named by its
 * key, each array an element repeated, each `@name` member an XML attribute.
 */
export function capabilitiesWadl(document: CapabilitiesDocument): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element('application', document.application, ` xmlns="${WADL_NAMESPACE}"`)}\n`;
}

type WadlNode = { [key: string]: string | WadlNode | WadlNode[] };

function element(name: string, node: object, extra = ''): string {
  let attributes = extra;
  let children = '';
  for (const [key, value] of Object.entries(node as WadlNode)) {
    if (typeof value === 'string') {
      if (key.startsWith('@')) attributes += ` ${key.slice(1)}="${escapeAttribute(value)}"`;
      else children += `<${key}>${escapeText(value)}</${key}>`;
    } else if (Array.isArray(value)) children += value.map((child) => element(key, child)).join('');
    else children += element(key, value);
  }
  return children === '' ? `<${name}${attributes}/>` : `<${name}${attributes}>${children}</${name}>`;
}
