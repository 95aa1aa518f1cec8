import http from 'node:http';

/** The load generator: keep-alive HTTP/1.1 on loopback, N concurrent workers, timings per request. */

export interface Sample {
  status: number;
  bytes: number;
  /** Milliseconds from sending the request to the response headers. */
  ttfbMs: number;
  /** Milliseconds from sending the request to the last body byte. */
  totalMs: number;
}

export interface RequestSpec {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** Request body, written chunk by chunk (no copy). */
  body?: () => Buffer[];
  /** Statuses that count as success (default 200, 204). */
  ok?: number[];
}

export class Client {
  readonly agent: http.Agent;
  readonly base: URL;

  /** `headers` go with every request (e.g. the `--auth` runs' Authorization); a request's own win. */
  constructor(
    baseUrl: string,
    sockets: number,
    readonly headers: Record<string, string> = {},
  ) {
    this.base = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  request(spec: RequestSpec): Promise<Sample> {
    return new Promise((resolve, reject) => {
      const body = spec.body?.();
      const length = body?.reduce((n, b) => n + b.length, 0);
      const started = performance.now();
      let ttfb = 0;
      const req = http.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          agent: this.agent,
          method: spec.method ?? 'GET',
          path: `${this.base.pathname.replace(/\/$/, '')}${spec.path}`,
          headers: { ...this.headers, ...(spec.headers ?? {}), ...(length !== undefined ? { 'content-length': String(length) } : {}) },
        },
        (res) => {
          ttfb = performance.now() - started;
          let bytes = 0;
          const keep: Buffer[] = [];
          const status = res.statusCode ?? 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (status >= 400 && keep.length < 4) keep.push(chunk);
          });
          res.on('end', () => {
            const sample = { status, bytes, ttfbMs: ttfb, totalMs: performance.now() - started };
            if (!(spec.ok ?? [200, 204]).includes(status)) {
              reject(new Error(`${spec.method ?? 'GET'} ${spec.path.slice(0, 160)} → ${status}: ${Buffer.concat(keep).toString('utf8').slice(0, 300)}`));
            } else resolve(sample);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (body) for (const chunk of body) req.write(chunk);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface RunResult {
  samples: Sample[];
  wallMs: number;
  errors: string[];
}

/** Runs every request once, `concurrency` at a time, in order. */
export async function runAll(client: Client, requests: RequestSpec[], concurrency: number, deadlineMs = Infinity): Promise<RunResult> {
  const samples: Sample[] = [];
  const errors: string[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < requests.length && performance.now() - started < deadlineMs) {
      const spec = requests[next++]!;
      try {
        samples.push(await client.request(spec));
      } catch (error) {
        errors.push((error as Error).message);
        if (errors.length > 20) throw new Error(`too many failed requests, the first: ${errors[0]}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return { samples, wallMs: performance.now() - started, errors };
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (values: number[]) => percentile(values, 50);
