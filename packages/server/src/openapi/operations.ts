/**
 * What the OpenAPI document says about each route (openapi.ts turns it into the schema @fastify/swagger
 * reads). Documentation only: none of this is attached to a route as a validation or serialization
 * schema, so no request is validated and no answer is serialized differently because of it (a response
 * schema would make fastify serialize DICOM JSON with fast-json-stringify, which drops properties).
 * Keyed by `METHOD url` exactly as registered (the keys of route-access.ts).
 */

/** One media type of a request or response body, and what it holds. */
export interface Media {
  readonly type: string;
  readonly schema?: Record<string, unknown>;
}

export interface ParameterDoc {
  readonly description: string;
  readonly schema?: Record<string, unknown>;
}

export interface OperationDoc {
  readonly summary: string;
  readonly tag: Tag;
  readonly description?: string;
  /** PS3.18 section or other reference, shown in the description. */
  readonly reference?: string;
  readonly query?: Readonly<Record<string, ParameterDoc>>;
  /** QIDO-RS attribute matching: any number of `{attributeID}={value}` parameters besides the named ones. */
  readonly attributeMatching?: boolean;
  readonly body?: { readonly description: string; readonly media: readonly Media[] };
  /** Successful (and other documented non-problem) answers by status. */
  readonly responses: Readonly<Record<string, { readonly description: string; readonly media?: readonly Media[] }>>;
  /** Problem (RFC 9457) answers by status, with what they mean here. */
  readonly problems?: Readonly<Record<string, string>>;
}

export type Tag =
  'health' | 'service' | 'STOW-RS' | 'QIDO-RS' | 'WADO-RS' | 'WADO-URI' | 'delete' | 'OHIF' | 'viewer' | 'shares' | 'upload' | 'change feed' | 'admin' | 'api';

export const TAGS: readonly { name: Tag; description: string }[] = [
  { name: 'health', description: 'liveness and readiness probes' },
  { name: 'service', description: 'the DICOMweb service root and its capabilities (PS3.18 §8.9)' },
  { name: 'STOW-RS', description: 'Store Over the Web (PS3.18 §10.5)' },
  { name: 'QIDO-RS', description: 'Query based on ID for DICOM Objects (PS3.18 §10.6)' },
  { name: 'WADO-RS', description: 'Web Access to DICOM Objects, RESTful (PS3.18 §10.4)' },
  { name: 'WADO-URI', description: 'Web Access to DICOM Objects by URI (PS3.18 §9)' },
  {
    name: 'delete',
    description: "deletion of a study, series or instance (not part of PS3.18: the shape of Microsoft's DICOM service and dcm4chee's REST API)",
  },
  { name: 'OHIF', description: 'JSON for OHIF viewers (legacy study JSON and v3 dicomjson)' },
  { name: 'viewer', description: 'the hosted OHIF viewer (pages, configuration, static files)' },
  { name: 'shares', description: 'study share links: one study, read-only, for a limited time, in the hosted viewer (docs/security.md)' },
  { name: 'upload', description: 'the browser upload page and its store (the same store path as STOW-RS)' },
  { name: 'change feed', description: "every create, update and delete of an instance in commit order (the shape of Microsoft's DICOM service change feed)" },
  { name: 'admin', description: 'administration: the audit trail and metrics' },
  { name: 'api', description: 'this description of the API' },
];

const binary = { type: 'string', contentMediaType: 'application/octet-stream' };
const multipart = (type: string, extra = ''): Media => ({ type: `multipart/related; type="${type}"${extra}`, schema: binary });
const dicomJsonArray: Media = { type: 'application/dicom+json', schema: { type: 'array', items: { $ref: '#/components/schemas/DicomJsonDataset' } } };
const dicomJsonObject: Media = { type: 'application/dicom+json', schema: { $ref: '#/components/schemas/DicomJsonDataset' } };
const dicomXmlMultipart = multipart('application/dicom+xml');
const json = (schema: Record<string, unknown> = { type: 'object' }): Media => ({ type: 'application/json', schema });
const image = (type: string): Media => ({ type, schema: { type: 'string', contentMediaType: type } });

const RETRIEVE_PROBLEMS = {
  '400': 'a UID or parameter is not valid',
  '404': 'no such study, series or instance (or nothing stored under it)',
  '406': 'none of the accepted media types can be produced (the detail names those that can)',
  '503': 'the index or the blob store is unavailable; retry later',
};
const SEARCH_PROBLEMS = { '400': 'a parameter is not valid (unknown attribute, bad value, limit or offset)', '503': 'the index is unavailable; retry later' };

const QIDO_QUERY: Record<string, ParameterDoc> = {
  limit: { description: 'most results to return (clamped to QIDO_MAX_LIMIT, announced in a Warning header)', schema: { type: 'integer', minimum: 1 } },
  offset: { description: 'results to skip', schema: { type: 'integer', minimum: 0 } },
  includefield: {
    description: 'attributes to add to each result: keyword or tag (ggggeeee), comma-separated or repeated; `all` for every stored attribute',
    schema: { type: 'array', items: { type: 'string' } },
  },
  fuzzymatching: { description: 'true: person names match fuzzily (PS3.18 §8.3.4.4)', schema: { type: 'boolean' } },
  emptyvaluematching: { description: 'true: an empty value of a matched attribute matches too', schema: { type: 'boolean' } },
  multiplevaluematching: { description: 'true: a multi-valued attribute matches if any value matches', schema: { type: 'boolean' } },
};

const qido = (level: string, scope: string): OperationDoc => ({
  summary: `Search for ${level}${scope}`,
  tag: 'QIDO-RS',
  reference: 'PS3.18 §10.6',
  description:
    'Besides the named parameters, any number of attribute matching parameters `{attributeID}={value}` (keyword or tag, e.g. `PatientID=123`, `00100020=123`, `StudyDate=20240101-20241231`, `PatientName=Doe*`).',
  query: QIDO_QUERY,
  attributeMatching: true,
  responses: {
    '200': { description: 'the matching entities, each with its RetrieveURL', media: [dicomJsonArray, dicomXmlMultipart] },
    '204': { description: 'nothing matches' },
  },
  problems: SEARCH_PROBLEMS,
});

const RENDERED_QUERY: Record<string, ParameterDoc> = {
  window: { description: 'center,width,function (linear, linear-exact or sigmoid)', schema: { type: 'string', examples: ['40,400,linear'] } },
  quality: { description: 'lossy quality 1–100', schema: { type: 'integer', minimum: 1, maximum: 100 } },
  viewport: { description: 'vw,vh[,sx,sy,sw,sh]: output size and source region', schema: { type: 'string' } },
  annotation: { description: 'patient and/or technique: burnt-in annotation', schema: { type: 'string' } },
  iccprofile: { description: 'no, yes, srgb, adobergb or rommrgb', schema: { type: 'string' } },
};
const RENDERED_MEDIA = [image('image/jpeg'), image('image/png'), image('image/gif')];

const rendered = (level: string): OperationDoc => ({
  summary: `Retrieve the ${level} rendered (consumer format)`,
  tag: 'WADO-RS',
  reference: 'PS3.18 §10.4.1.1.3',
  query: RENDERED_QUERY,
  responses: { '200': { description: `the ${level} rendered`, media: RENDERED_MEDIA } },
  problems: RETRIEVE_PROBLEMS,
});
const thumbnail = (level: string): OperationDoc => ({
  summary: `Retrieve a thumbnail of the ${level}`,
  tag: 'WADO-RS',
  reference: 'PS3.18 §10.4.1.1.4',
  query: { viewport: RENDERED_QUERY.viewport! },
  responses: { '200': { description: 'a small representative image', media: RENDERED_MEDIA } },
  problems: RETRIEVE_PROBLEMS,
});
const instances = (level: string): OperationDoc => ({
  summary: `Retrieve the ${level}'s instances`,
  tag: 'WADO-RS',
  reference: 'PS3.18 §10.4.1.1.1',
  description: 'The stored Part 10 instances; a `transfer-syntax` parameter of the Accept media type asks for another transfer syntax (`*`: as stored).',
  responses: {
    '200': {
      description: 'one part per instance',
      media: [multipart('application/dicom', '; transfer-syntax=*'), { type: 'application/dicom', schema: binary }],
    },
  },
  problems: RETRIEVE_PROBLEMS,
});
const metadata = (level: string): OperationDoc => ({
  summary: `Retrieve the ${level}'s metadata`,
  tag: 'WADO-RS',
  reference: 'PS3.18 §10.4.1.1.2',
  description: 'Every attribute of every instance; values larger than INLINE_BINARY_MAX_BYTES are BulkDataURIs.',
  responses: { '200': { description: 'one dataset per instance', media: [dicomJsonArray, dicomXmlMultipart] } },
  problems: RETRIEVE_PROBLEMS,
});

const STOW: OperationDoc = {
  summary: 'Store instances',
  tag: 'STOW-RS',
  reference: 'PS3.18 §10.5',
  description:
    'Streams the body into the store. Each instance is stored or refused on its own; the Store Instances Response lists both (200: all stored, 202: some stored or with warnings, 409: none stored).',
  body: {
    description: 'Part 10 instances, or metadata with its bulk data',
    media: [
      multipart('application/dicom'),
      { type: 'application/dicom', schema: binary },
      multipart('application/dicom+json'),
      multipart('application/dicom+xml'),
    ],
  },
  responses: {
    '200': { description: 'every instance stored', media: [dicomJsonObject, { type: 'application/dicom+xml', schema: { type: 'string' } }] },
    '202': {
      description: 'some instances stored, or stored with warnings',
      media: [dicomJsonObject, { type: 'application/dicom+xml', schema: { type: 'string' } }],
    },
    '409': {
      description: 'no instance stored (FailedSOPSequence says why)',
      media: [dicomJsonObject, { type: 'application/dicom+xml', schema: { type: 'string' } }],
    },
  },
  problems: {
    '400': 'the body is empty, malformed or holds nothing readable as DICOM; or a UID is not valid',
    '406': 'the response cannot be given in an accepted media type',
    '408': 'the body arrived too slowly (HTTP_BODY_TIMEOUT_MS)',
    '413': 'the body or one part is too large (STOW_MAX_BODY_BYTES, STOW_MAX_PART_BYTES)',
    '415': 'the Content-Type is not one STOW-RS accepts',
    '503': 'the index or the blob store is unavailable, or the storage is full; retry later',
  },
};

const STUDY = '/dicomweb/studies/:study';
const SERIES = `${STUDY}/series/:series`;
const INSTANCE = `${SERIES}/instances/:instance`;

export const OPERATIONS: Readonly<Record<string, OperationDoc>> = {
  'GET /healthz': {
    summary: 'Liveness and version',
    tag: 'health',
    responses: { '200': { description: 'the process answers', media: [json({ $ref: '#/components/schemas/Health' })] } },
  },
  'GET /readyz': {
    summary: 'Readiness: can the index and the blob store be used',
    tag: 'health',
    responses: { '200': { description: 'ready', media: [json()] } },
    problems: { '503': 'not ready: a status per component (the cause is in the server log)' },
  },
  'GET /dicomweb': {
    summary: 'The service root: what is served where',
    tag: 'service',
    responses: { '200': { description: 'links to the services', media: [json()] } },
    problems: { '406': 'only application/json is available' },
  },
  'OPTIONS /dicomweb': {
    summary: 'The capabilities document',
    tag: 'service',
    reference: 'PS3.18 §8.9, Annex H',
    responses: {
      '200': { description: 'the resources and their methods', media: [json(), { type: 'application/vnd.sun.wadl+xml', schema: { type: 'string' } }] },
    },
    problems: { '406': 'only JSON or WADL XML is available' },
  },
  'POST /dicomweb/studies': STOW,
  [`POST ${STUDY}`]: { ...STOW, summary: 'Store instances of one study', description: `${STOW.description} An instance of another study is refused (A900).` },
  'GET /dicomweb/studies': qido('studies', ''),
  'GET /dicomweb/series': qido('series', ''),
  'GET /dicomweb/instances': qido('instances', ''),
  [`GET ${STUDY}/series`]: qido('series', ' of a study'),
  [`GET ${STUDY}/instances`]: qido('instances', ' of a study'),
  [`GET ${SERIES}/instances`]: qido('instances', ' of a series'),
  [`GET ${STUDY}`]: instances('study'),
  [`GET ${SERIES}`]: instances('series'),
  [`GET ${INSTANCE}`]: instances('instance'),
  [`GET ${STUDY}/metadata`]: metadata('study'),
  [`GET ${SERIES}/metadata`]: metadata('series'),
  [`GET ${INSTANCE}/metadata`]: metadata('instance'),
  [`GET ${INSTANCE}/frames/*`]: {
    summary: 'Retrieve frames (and their rendered and thumbnail forms)',
    tag: 'WADO-RS',
    reference: 'PS3.18 §10.4.1.1.5',
    description:
      'The wildcard is `{frameList}` (comma-separated frame numbers from 1), optionally followed by `/rendered` or `/thumbnail` (then the rendered parameters apply).',
    query: RENDERED_QUERY,
    responses: {
      '200': {
        description: 'one part per frame; or one image when rendered',
        media: [multipart('application/octet-stream'), multipart('image/jpeg'), multipart('image/jp2'), ...RENDERED_MEDIA],
      },
    },
    problems: RETRIEVE_PROBLEMS,
  },
  [`GET ${INSTANCE}/bulkdata/*`]: {
    summary: 'Retrieve bulk data (a BulkDataURI of the metadata)',
    tag: 'WADO-RS',
    reference: 'PS3.18 §10.4.1.1.6',
    description: 'The wildcard is the path of the attribute as the metadata gives it. A Range header asks for part of the value.',
    responses: {
      '200': { description: 'the value', media: [multipart('application/octet-stream'), { type: 'application/octet-stream', schema: binary }] },
      '206': { description: 'the requested range of the value', media: [{ type: 'application/octet-stream', schema: binary }] },
    },
    problems: { ...RETRIEVE_PROBLEMS, '416': 'the range lies outside the value' },
  },
  [`GET ${STUDY}/rendered`]: rendered('study'),
  [`GET ${SERIES}/rendered`]: rendered('series'),
  [`GET ${INSTANCE}/rendered`]: rendered('instance'),
  [`GET ${STUDY}/thumbnail`]: thumbnail('study'),
  [`GET ${SERIES}/thumbnail`]: thumbnail('series'),
  [`GET ${INSTANCE}/thumbnail`]: thumbnail('instance'),
  ...Object.fromEntries(
    ['/wado', '/wadouri'].map((url) => [
      `GET ${url}`,
      {
        summary: url === '/wado' ? 'WADO-URI retrieve' : 'WADO-URI retrieve (the same, at the alias some viewers use)',
        tag: 'WADO-URI',
        reference: 'PS3.18 §9',
        query: {
          requestType: { description: 'WADO', schema: { type: 'string', enum: ['WADO'] } },
          studyUID: { description: 'Study Instance UID', schema: { type: 'string' } },
          seriesUID: { description: 'Series Instance UID', schema: { type: 'string' } },
          objectUID: { description: 'SOP Instance UID', schema: { type: 'string' } },
          contentType: { description: 'application/dicom, image/jpeg, image/png, image/gif (comma list, in preference order)', schema: { type: 'string' } },
          transferSyntax: { description: 'for application/dicom: the transfer syntax UID wanted', schema: { type: 'string' } },
          frameNumber: { description: 'the frame to render (from 1)', schema: { type: 'integer', minimum: 1 } },
          rows: { description: 'rendered height', schema: { type: 'integer', minimum: 1 } },
          columns: { description: 'rendered width', schema: { type: 'integer', minimum: 1 } },
          region: { description: 'left,top,right,bottom as fractions of the image', schema: { type: 'string' } },
          windowCenter: { description: 'window center (with windowWidth)', schema: { type: 'number' } },
          windowWidth: { description: 'window width (with windowCenter)', schema: { type: 'number' } },
          imageQuality: { description: 'lossy quality 1–100', schema: { type: 'integer', minimum: 1, maximum: 100 } },
          annotation: { description: 'patient and/or technique', schema: { type: 'string' } },
        },
        responses: {
          '200': { description: 'the instance, or the rendered image', media: [{ type: 'application/dicom', schema: binary }, ...RENDERED_MEDIA] },
        },
        problems: RETRIEVE_PROBLEMS,
      } satisfies OperationDoc,
    ]),
  ),
  'GET /ohif/study/:study/series': {
    summary: 'OHIF legacy study JSON (the standalone viewer reads it)',
    tag: 'OHIF',
    responses: { '200': { description: 'the study, its series and instances with WADO-URI links', media: [json()] } },
    problems: RETRIEVE_PROBLEMS,
  },
  'GET /ohif/study/:study/series/:series': {
    summary: 'OHIF legacy study JSON, one series',
    tag: 'OHIF',
    responses: { '200': { description: 'the study with one series', media: [json()] } },
    problems: RETRIEVE_PROBLEMS,
  },
  'GET /ohif/dicomjson/studies/:study': {
    summary: "OHIF v3 dicomjson study (the viewer's /viewer/dicomjson?url= reads it)",
    tag: 'OHIF',
    responses: { '200': { description: 'the study in the dicomjson form', media: [json()] } },
    problems: RETRIEVE_PROBLEMS,
  },
  'GET /api/audit': {
    summary: 'The audit trail',
    tag: 'admin',
    description: 'JSON pages (follow `next` as `cursor`), or every matching event as JSON lines with `Accept: application/x-ndjson`.',
    query: {
      since: { description: 'events at or after this time (ISO 8601)', schema: { type: 'string', format: 'date-time' } },
      until: { description: 'events before this time (ISO 8601)', schema: { type: 'string', format: 'date-time' } },
      actor: { description: 'an API key id or token subject', schema: { type: 'string' } },
      study: { description: 'a Study Instance UID', schema: { type: 'string' } },
      outcome: { description: 'success or failure', schema: { type: 'string' } },
      type: { description: 'the event type', schema: { type: 'string' } },
      limit: { description: 'events per page', schema: { type: 'integer', minimum: 1 } },
      cursor: { description: 'the `next` of the previous page', schema: { type: 'string' } },
    },
    responses: {
      '200': {
        description: 'a page of events, or the events as JSON lines',
        media: [
          json({ type: 'object', properties: { events: { type: 'array' }, next: { type: ['string', 'null'] } } }),
          { type: 'application/x-ndjson', schema: { type: 'string' } },
        ],
      },
    },
    problems: { '400': 'a parameter is not valid', '503': 'the index is unavailable' },
  },
  ...Object.fromEntries(
    (
      [
        [STUDY, 'study', 'every series and instance of the study'],
        [SERIES, 'series', 'every instance of the series'],
        [INSTANCE, 'instance', 'the instance'],
      ] as const
    ).map(([url, level, what]) => [
      `DELETE ${url}`,
      {
        summary: `Delete a ${level}`,
        tag: 'delete',
        description: `Removes ${what} from the index in one transaction (search, metadata, retrieval and computed counts stop showing it at once), then its stored bytes. Needs the \`delete\` scope.`,
        responses: { '204': { description: 'deleted' } },
        problems: {
          '400': 'a UID is not valid',
          '404': `no such ${level} is stored`,
          '503': 'the index is unavailable, or did not confirm the outcome (INDEX_OUTCOME_UNKNOWN): nothing was removed from the blob store; retry',
        },
      } satisfies OperationDoc,
    ]),
  ),
  'POST /api/shares': {
    summary: 'Create a study share link',
    tag: 'shares',
    description: 'The answer holds the only copy of the link (only a hash of its token is stored).',
    body: {
      description: 'the study, the lifetime (seconds, or 30m / 12h / 7d; at most SHARE_MAX_DAYS) and an optional note',
      media: [
        json({
          type: 'object',
          required: ['studyInstanceUid', 'expiresIn'],
          properties: { studyInstanceUid: { type: 'string' }, expiresIn: { type: ['string', 'integer'] }, note: { type: 'string', maxLength: 200 } },
        }),
      ],
    },
    responses: {
      '201': {
        description: 'the share: id, link, study, expiry and state',
        media: [json({ type: 'object', properties: { id: { type: 'string' }, link: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } } })],
      },
    },
    problems: { '400': 'the body is not valid', '404': 'the study is not stored here', '503': 'the index is unavailable' },
  },
  'GET /api/shares': {
    summary: 'List study share links (never their tokens)',
    tag: 'shares',
    query: { study: { description: 'only the shares of this Study Instance UID', schema: { type: 'string' } } },
    responses: { '200': { description: 'the shares', media: [json({ type: 'object', properties: { shares: { type: 'array' } } })] } },
    problems: { '400': 'a parameter is not valid', '503': 'the index is unavailable' },
  },
  'DELETE /api/shares/:id': {
    summary: 'Revoke a study share link',
    tag: 'shares',
    description: 'The link and every cookie it gave stop working on every server within AUTH_KEY_CACHE_SECONDS.',
    responses: { '204': { description: 'revoked' } },
    problems: { '404': 'no share with this id', '503': 'the index is unavailable' },
  },
  'GET /s/:token': {
    summary: 'Open a study share link',
    tag: 'shares',
    description: 'Exchanges the token for an HttpOnly, SameSite=Strict cookie limited to the share and redirects to the viewer, without the token in the URL.',
    responses: { '303': { description: 'to the viewer, with the share cookie set' } },
    problems: { '404': 'no such share link', '410': 'the share was revoked or has expired' },
  },
  'GET /api/backup/index': {
    summary: 'A snapshot of the embedded index, for a backup',
    tag: 'admin',
    description: "Embedded (PGlite) index only: PGlite's own dump of its data directory, a gzipped tarball (docs/reliability.md, Backup and restore).",
    responses: { '200': { description: 'the tarball', media: [{ type: 'application/gzip', schema: binary }] } },
    problems: { '503': 'the index is unavailable' },
  },
  'GET /upload': {
    summary: 'The upload page',
    tag: 'upload',
    responses: { '200': { description: 'the page', media: [{ type: 'text/html', schema: { type: 'string' } }] } },
  },
  'POST /api/upload': {
    summary: "The upload page's store",
    tag: 'upload',
    description: 'DICOM files as multipart/form-data, stored through the same path as STOW-RS (same checks, limits and duplicate rules); one result per file.',
    body: { description: 'one or more DICOM files as form fields', media: [{ type: 'multipart/form-data', schema: { type: 'object' } }] },
    responses: { '200': { description: 'a result per file', media: [json({ type: 'object', properties: { files: { type: 'array' } } })] } },
    problems: { '400': 'the body is not multipart/form-data', '413': 'the body is too large', '503': 'the index or the blob store is unavailable' },
  },
  'GET /api/changefeed': {
    summary: 'The change feed',
    tag: 'change feed',
    description: 'Entries oldest first. Without a time window, offset is the last Sequence already seen.',
    query: {
      startTime: { description: 'entries at or after this time (ISO 8601)', schema: { type: 'string', format: 'date-time' } },
      endTime: { description: 'entries before this time (ISO 8601)', schema: { type: 'string', format: 'date-time' } },
      offset: { description: 'the last Sequence seen (or, with a time window, entries of it to skip)', schema: { type: 'integer', minimum: 0 } },
      limit: { description: 'entries to return, 1 to 200 (default 10)', schema: { type: 'integer', minimum: 1, maximum: 200 } },
      includeMetadata: { description: "the instance's DICOM JSON with each entry (default true)", schema: { type: 'boolean' } },
    },
    responses: { '200': { description: 'the entries', media: [json({ type: 'array', items: { type: 'object' } })] } },
    problems: { '400': 'a parameter is not valid', '503': 'the index is unavailable' },
  },
  'GET /api/changefeed/latest': {
    summary: 'The latest change feed entry',
    tag: 'change feed',
    query: { includeMetadata: { description: "the instance's DICOM JSON (default true)", schema: { type: 'boolean' } } },
    responses: { '200': { description: 'the entry', media: [json()] }, '204': { description: 'the feed is empty' } },
    problems: { '400': 'a parameter is not valid', '503': 'the index is unavailable' },
  },
  'GET /api/changefeed/stream': {
    summary: 'The change feed as Server-Sent Events',
    tag: 'change feed',
    description: 'One `change` event per entry, its id the Sequence; resumes after `after` or the Last-Event-ID header.',
    query: {
      after: { description: 'the last Sequence seen', schema: { type: 'integer', minimum: 0 } },
      includeMetadata: { description: "the instance's DICOM JSON (default false)", schema: { type: 'boolean' } },
      timeout: {
        description: 'seconds after which the stream ends once caught up (0: send what there is, then end)',
        schema: { type: 'integer', minimum: 0, maximum: 86400 },
      },
    },
    responses: { '200': { description: 'the event stream', media: [{ type: 'text/event-stream', schema: { type: 'string' } }] } },
    problems: { '400': 'a parameter is not valid', '503': 'the index is unavailable' },
  },
  'GET /metrics': {
    summary: 'Prometheus metrics',
    tag: 'admin',
    description:
      'Request durations by route and status class, STOW-RS counts, index and blob store latency and errors, pool usage, process metrics (docs/deployment.md).',
    responses: { '200': { description: 'the Prometheus text exposition format', media: [{ type: 'text/plain; version=0.0.4', schema: { type: 'string' } }] } },
    problems: { '503': "WORKERS above 1: the workers' metrics could not be gathered in time" },
  },
  'GET /openapi.json': {
    summary: 'This OpenAPI document',
    tag: 'api',
    responses: { '200': { description: 'OpenAPI 3.1', media: [json()] } },
  },
  // The hosted viewer's pages and generated configuration (its static files are one entry, /{file}: openapi.ts).
  ...Object.fromEntries(
    (
      [
        ['/', 'the viewer (study list)'],
        ['/viewer', 'the viewer; ?StudyInstanceUIDs= opens studies'],
        ['/viewer/*', "the viewer's own routes"],
        ['/viewer/dicomjson', 'the viewer reading a dicomjson study; ?url='],
        ['/segmentation', 'the viewer (segmentation mode)'],
        ['/tmtv', 'the viewer (TMTV mode)'],
        ['/microscopy', 'the viewer (microscopy mode)'],
        ['/callback', "the sign-in's authorization response (OpenID Connect)"],
        ['/login', 'sign-in'],
        ['/logout', 'sign-out'],
      ] as const
    ).map(([url, summary]) => [
      `GET ${url}`,
      {
        summary: `Page: ${summary}`,
        tag: 'viewer',
        responses: { '200': { description: 'the viewer page', media: [{ type: 'text/html', schema: { type: 'string' } }] } },
      } satisfies OperationDoc,
    ]),
  ),
  'GET /app-config.js': {
    summary: "The viewer's configuration, generated for this server",
    tag: 'viewer',
    responses: { '200': { description: 'a script', media: [{ type: 'text/javascript', schema: { type: 'string' } }] } },
  },
};
