import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HttpProblem } from '@tessera/http';
import type { BlobStore } from '@tessera/blob-store';
import { statusHex } from '@tessera/dicom';
import type { Index } from '@tessera/index';
import type { StoreOutcome, StowObserver } from '@tessera/stow-rs';
import { VERSION } from '../version.js';

/**
 * Prometheus metrics (prom-client), one registry per app. Labels are bounded by construction: the
 * route *pattern* (never the URL, so no UID), a status class, a method or operation name, a
 * reason code or an error class name. Storage is observed at the boundary the server already has:
 * the Index and BlobStore objects it hands to the services are wrapped here (observeIndex,
 * observeBlobs), so @tessera/index and @tessera/blob-store know nothing of prom-client.
 */
export interface Metrics {
  readonly registry: Registry;
  /** The index, each method call timed and its failures counted by operation. */
  observeIndex(index: Index): Index;
  /** The blob store, likewise. */
  observeBlobs(blobs: BlobStore): BlobStore;
  /** Counts what STOW-RS requests stored and refused. */
  readonly stow: StowObserver;
  /** The request-duration hook (before the routes). */
  install(app: FastifyInstance): void;
  /** `GET /metrics`. */
  route(app: FastifyInstance): void;
}

/** Latency buckets in seconds: storage calls are often sub-millisecond, retrievals may take seconds. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A worker's request to the supervisor for the metrics of every worker, and its answer (WORKERS > 1). */
const SCRAPE_REQUEST = 'tessera:metrics-request';
const SCRAPE_RESPONSE = 'tessera:metrics-response';
interface ScrapeResponse {
  type: typeof SCRAPE_RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // A worker of `WORKERS` > 1: its registry is what the supervisor gathers (serveWorkerMetrics), and
  // its /metrics answers with every worker's series summed, whichever worker the scrape reached.
  const clustered = cluster.isWorker && typeof process.send === 'function';
  const scrape = clustered ? clusterScraper(registry) : () => registry.metrics();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'tessera_build_info',
    help: 'the running release (value 1)',
    labelNames: ['version'],
    registers: [registry],
    aggregator: 'max', // one release, however many workers run it
  }).set({ version: VERSION }, 1);

  const requests = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'HTTP requests: time to the end of the response, by method, route pattern and status class',
    labelNames: ['method', 'route', 'status_class'],
    buckets: BUCKETS,
    registers: [registry],
  });
  const stowInstances = new Counter({
    name: 'tessera_stow_instances_stored_total',
    help: 'instances STOW-RS stored; duplicate="true": byte-identical re-sends that changed nothing',
    labelNames: ['duplicate'],
    registers: [registry],
  });
  const stowBytes = new Counter({
    name: 'tessera_stow_bytes_stored_total',
    help: 'bytes of the instances STOW-RS stored (duplicates excluded)',
    registers: [registry],
  });
  const stowFailures = new Counter({
    name: 'tessera_stow_failures_total',
    help: 'STOW-RS refusals: scope="instance" by FailureReason (hex), scope="request" (the whole request failed) by problem code',
    labelNames: ['scope', 'reason'],
    registers: [registry],
  });
  const stowWarnings = new Counter({
    name: 'tessera_stow_warnings_total',
    help: 'instances stored with a WarningReason, by reason (hex)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const storage = (component: 'index' | 'blob_store') => ({
    duration: new Histogram({
      name: `tessera_${component}_operation_duration_seconds`,
      help: `${component === 'index' ? 'index (database)' : 'blob store'} calls by operation, successful or not`,
      labelNames: ['operation'],
      buckets: BUCKETS,
      registers: [registry],
    }),
    errors: new Counter({
      name: `tessera_${component}_operation_errors_total`,
      help: `${component === 'index' ? 'index (database)' : 'blob store'} calls that failed, by operation and error class`,
      labelNames: ['operation', 'error'],
      registers: [registry],
    }),
  });
  const indexMetrics = storage('index');
  const blobMetrics = storage('blob_store');
  let pooled: Index | undefined;
  new Gauge({
    name: 'tessera_index_pool_connections',
    help: 'PostgreSQL pool: connections open (total), of those idle, and queries waiting for one (absent on PGlite)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = pooled?.poolStats?.();
      if (!stats) return;
      for (const state of ['total', 'idle', 'waiting'] as const) this.set({ state }, stats[state]);
    },
  });

  return {
    registry,
    observeIndex(index) {
      pooled = index;
      return observed(index, indexMetrics, 2);
    },
    observeBlobs(blobs) {
      return observed(blobs, blobMetrics, 1);
    },
    stow: {
      outcome(outcome: StoreOutcome) {
        let bytes = 0;
        for (const result of outcome.results) {
          if (result.kind === 'failed') {
            stowFailures.inc({ scope: 'instance', reason: statusHex(result.reason) });
            continue;
          }
          stowInstances.inc({ duplicate: result.duplicate ? 'true' : 'false' });
          if (!result.duplicate) bytes += result.size ?? 0;
          if (result.warning) stowWarnings.inc({ reason: statusHex(result.warning.reason) });
        }
        if (bytes) stowBytes.inc(bytes);
      },
      failed(code: string) {
        stowFailures.inc({ scope: 'request', reason: code });
      },
    },
    install(app) {
      // The series of each (method, route, status class), bound once: prom-client then skips hashing
      // the labels on every request. Bounded: routes are patterns, not URLs.
      const series = new Map<string, ReturnType<typeof requests.labels>>();
      // A callback hook, not an async one: no promise per request.
      app.addHook('onResponse', (request, reply, done) => {
        const routeClass = request.routeOptions.config.accessClass;
        // The viewer's static files are routes of their own: one label for all of them.
        const route = routeClass === 'viewer' || routeClass === 'api-reference' ? `(${routeClass})` : (request.routeOptions.url ?? '(no route)');
        const statusClass = `${Math.floor(reply.statusCode / 100)}xx`;
        const key = `${request.method} ${statusClass} ${route}`;
        let observer = series.get(key);
        if (!observer) series.set(key, (observer = requests.labels({ method: request.method, route, status_class: statusClass })));
        observer.observe(reply.elapsedTime / 1000);
        done();
      });
    },
    route(app) {
      app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await scrape()));
    },
  };
}

/** How long a worker waits for the supervisor to gather every worker's metrics (prom-client's own limit is 5 s). */
const SCRAPE_TIMEOUT_MS = 7_000;

/**
 * In a worker: the metrics of every worker, gathered by the supervisor (serveWorkerMetrics) over the
 * cluster's IPC channel. Counters and histograms are summed across workers, as prom-client's
 * AggregatorRegistry does; a scrape the supervisor cannot answer in time is a 503, never a partial sum.
 */
function clusterScraper(registry: Registry): () => Promise<string> {
  new AggregatorRegistry(); // installs prom-client's answer to the supervisor's requests in this worker
  AggregatorRegistry.setRegistries([registry]);
  const pending = new Map<number, { resolve(text: string): void; reject(error: Error): void }>();
  let next = 0;
  process.on('message', (message: Partial<ScrapeResponse>) => {
    if (message?.type !== SCRAPE_RESPONSE || typeof message.id !== 'number') return;
    const waiting = pending.get(message.id);
    pending.delete(message.id);
    if (message.text !== undefined) waiting?.resolve(message.text);
    else waiting?.reject(new Error(message.error ?? 'no metrics'));
  });
  const unavailable = (why: string) =>
    new HttpProblem(503, 'METRICS_UNAVAILABLE', `the metrics of the server's workers could not be gathered: ${why}; retry later`, { 'retry-after': '5' });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(unavailable('the supervisor did not answer in time'));
      }, SCRAPE_TIMEOUT_MS);
      pending.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(unavailable(error.message));
        },
      });
      process.send!({ type: SCRAPE_REQUEST, id });
    });
}

/**
 * In the supervisor of `WORKERS` > 1 (node:cluster primary): answers each worker's request for the
 * metrics of all workers with their sum (prom-client's AggregatorRegistry asks every live worker).
 */
export function serveWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: unknown }) => {
    if (message?.type !== SCRAPE_REQUEST || typeof message.id !== 'number') return;
    const id = message.id;
    const answer = (response: Omit<ScrapeResponse, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: SCRAPE_RESPONSE, id, ...response });
    };
    aggregator.clusterMetrics().then(
      (text) => answer({ text }),
      (error: unknown) => answer({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

interface StorageMetrics {
  duration: Histogram<'operation'>;
  errors: Counter<'operation' | 'error'>;
}

/**
 * `target` with every method that returns a promise timed (until it settles) and its rejections
 * counted; methods returning anything else (streams, async iterables) are passed through untimed.
 * `depth` 2 also wraps the objects it holds (the index's instances, retrieve, search, … parts),
 * their operations named `part.method`.
 */
function observed<T extends object>(target: T, metrics: StorageMetrics, depth: number, prefix = ''): T {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, property, _receiver) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof property !== 'string') return value;
      if (cache.has(property)) return cache.get(property);
      let wrapped: unknown = value;
      if (typeof value === 'function') {
        const operation = `${prefix}${property}`;
        const method = value as (...args: unknown[]) => unknown;
        // Bound at the first timed call (prom-client then skips hashing the labels on every call).
        let duration: ReturnType<typeof metrics.duration.labels> | undefined;
        wrapped = function (this: unknown, ...args: unknown[]) {
          const started = process.hrtime.bigint();
          const result = method.apply(object, args);
          if (!isPromise(result)) return result;
          return result.then(
            (resolved) => {
              (duration ??= metrics.duration.labels({ operation })).observe(seconds(started));
              return resolved;
            },
            (error: unknown) => {
              (duration ??= metrics.duration.labels({ operation })).observe(seconds(started));
              metrics.errors.inc({ operation, error: errorClass(error) });
              throw error;
            },
          );
        };
      } else if (depth > 1 && value !== null && typeof value === 'object') {
        wrapped = observed(value, metrics, depth - 1, `${prefix}${property}.`);
      } else {
        return value;
      }
      cache.set(property, wrapped);
      return wrapped;
    },
  });
}

function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise || (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function');
}

function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function errorClass(error: unknown): string {
  const name = error instanceof Error ? error.constructor.name || error.name : typeof error;
  return /^[A-Za-z0-9_]{1,64}$/.test(name) ? name : 'Error';
}
