import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { type Answer, generatedInstance, request, stow } from './dicomweb.js';
import type { RunOptions, ScenarioResult } from './report.js';
import { type BackendName, ServerProcess, openStorage } from './server.js';

/** A request that takes longer than this is a hang. */
const BUDGET_MS = 30_000;

/**
 * Scenario 5, fuzzing with fast-check at a fixed seed: multipart bodies (round-trip and mutations),
 * Part 10 files (truncations, bit flips, inflated lengths) and QIDO-RS parameters. Only 2xx/4xx
 * answers, none past the time budget, and nothing stored from a refused part.
 */
export async function fuzz(backend: BackendName, options: RunOptions): Promise<ScenarioResult> {
  const started = performance.now();
  const numRuns = options.short ? 25 : 250;
  const failures: string[] = [];
  const statuses = new Map<string, number>();
  let requests = 0;
  const storage = await openStorage(backend, { postgresAdminUrl: options.postgresAdminUrl });
  const server = await ServerProcess.create(storage.env);

  const count = (what: string, a: Answer) => {
    requests++;
    const key = `${what} ${a.status}`;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  };
  /** 2xx or 4xx, else a property failure. */
  const acceptable = (what: string, a: Answer) => {
    count(what, a);
    if (a.status >= 500 || a.status < 200 || (a.status >= 300 && a.status < 400))
      throw new Error(`${what} answered ${a.status}: ${a.body.toString('utf8').slice(0, 300)}`);
  };
  const isIndexed = async (sop: string) => {
    const a = await request(`${server.url}/dicomweb/instances?SOPInstanceUID=${sop}`, { headers: { accept: 'application/dicom+json' }, deadlineMs: BUDGET_MS });
    acceptable('qido-check', a);
    return a.status === 200 && a.body.length > 2 && a.body.toString().includes(sop);
  };

  const check = async <Ts extends [unknown, ...unknown[]]>(name: string, property: fc.IAsyncProperty<Ts>) => {
    const result = await fc.check(property, { seed: options.seed, numRuns, endOnFailure: true });
    if (result.failed) failures.push(`${name}: ${fc.defaultReportMessage(result) ?? 'failed'}`);
  };

  try {
    await server.start();

    // Multipart round trip: any boundary, quoting, preamble, epilogue, header case and part count is stored whole.
    const boundaryChars = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+_,-./:=?".split(''));
    await check(
      'multipart round trip',
      fc.asyncProperty(
        fc.array(boundaryChars, { minLength: 1, maxLength: 69 }).map((cs) => cs.join('') + 'z'),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.string({ maxLength: 40 }).map((s) => s.replace(/-/g, '')),
        fc.constantFrom('Content-Type', 'content-type', 'CONTENT-TYPE'),
        fc.boolean(),
        async (boundary, parts, quoted, preamble, headerName, partLength) => {
          const instances = Array.from({ length: parts }, () => generatedInstance());
          const chunks: Buffer[] = [];
          if (preamble) chunks.push(Buffer.from(`${preamble}\r\n`));
          for (const i of instances) {
            chunks.push(
              Buffer.from(`--${boundary}\r\n${headerName}: application/dicom\r\n${partLength ? `Content-Length: ${i.bytes.length}\r\n` : ''}\r\n`),
              i.bytes,
              Buffer.from('\r\n'),
            );
          }
          chunks.push(Buffer.from(`--${boundary}--\r\nepilogue`));
          const b = quoted || /[()+,/:=?']/.test(boundary) ? `"${boundary}"` : boundary;
          const a = await request(`${server.url}/dicomweb/studies`, {
            method: 'POST',
            headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${b}`, accept: 'application/dicom+json' },
            body: Buffer.concat(chunks),
            deadlineMs: BUDGET_MS,
          });
          acceptable('stow-roundtrip', a);
          if (a.status !== 200) throw new Error(`a well-formed body was refused (${a.status}): ${a.body.toString().slice(0, 300)}`);
          for (const i of instances) if (!(await isIndexed(i.sop))) throw new Error(`${i.sop} acknowledged but not indexed`);
        },
      ),
    );

    // Multipart mutations: truncations, flipped bytes, inserted and deleted ranges.
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bits: fc.integer({ min: 1, max: 255 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.integer({ min: 1, max: 512 }) }),
    );
    const mutate = (body: Buffer, m: Mutation): Buffer => {
      const at = Math.min(body.length - 1, Math.floor(m.at * body.length));
      switch (m.kind) {
        case 'truncate':
          return body.subarray(0, at);
        case 'flip': {
          const copy = Buffer.from(body);
          copy[at] = copy[at]! ^ m.bits;
          return copy;
        }
        case 'insert':
          return Buffer.concat([body.subarray(0, at), Buffer.from(m.bytes), body.subarray(at)]);
        case 'delete':
          return Buffer.concat([body.subarray(0, at), body.subarray(at + m.length)]);
      }
    };
    await check(
      'multipart mutations',
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (parts, mutations) => {
        const instances = Array.from({ length: parts }, () => generatedInstance());
        const boundary = `fuzz${randomBytes(6).toString('hex')}`;
        let body: Buffer = Buffer.concat([
          ...instances.flatMap((i) => [Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), i.bytes, Buffer.from('\r\n')]),
          Buffer.from(`--${boundary}--\r\n`),
        ]);
        for (const m of mutations) body = mutate(body, m);
        const a = await request(`${server.url}/dicomweb/studies`, {
          method: 'POST',
          headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: 'application/dicom+json' },
          body,
          deadlineMs: BUDGET_MS,
        });
        acceptable('stow-mutated', a);
        await nothingStoredFromRefused(a, instances);
      }),
    );

    // Part 10 mutations: truncations, bit flips, inflated element lengths, each as the only part.
    await check(
      'Part 10 mutations',
      fc.asyncProperty(
        fc.oneof(
          fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
          fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bits: fc.integer({ min: 1, max: 255 }) }),
          fc.record({
            kind: fc.constant('inflate' as const),
            element: fc.nat(),
            length: fc.constantFrom(0xffffffff, 0xfffffffe, 0x7fffffff, 0x10000, 0xffff, 1, 3),
          }),
        ),
        async (m) => {
          const instance = generatedInstance();
          let bytes = Buffer.from(instance.bytes);
          if (m.kind === 'truncate') bytes = bytes.subarray(0, Math.floor(m.at * bytes.length));
          else if (m.kind === 'flip') {
            const at = Math.min(bytes.length - 1, Math.floor(m.at * bytes.length));
            bytes[at] = bytes[at]! ^ m.bits;
          } else inflate(bytes, m.element, m.length);
          const a = await stow(server.url, [bytes], BUDGET_MS);
          acceptable('stow-part10', a);
          if (!a.stored.includes(instance.sop) && (await isIndexed(instance.sop))) throw new Error(`${instance.sop} refused (${a.status}) but indexed`);
          for (const sop of a.stored) if (!(await isIndexed(sop))) throw new Error(`${sop} acknowledged but not indexed`);
        },
      ),
    );

    // QIDO-RS parameters: any key (attribute keywords, tags, the paging and matching parameters) with any value.
    const keys = fc.constantFrom(
      'PatientName',
      'PatientID',
      'StudyDate',
      'StudyTime',
      'AccessionNumber',
      'ModalitiesInStudy',
      'Modality',
      'StudyInstanceUID',
      'SeriesInstanceUID',
      'SOPInstanceUID',
      '00100010',
      '0020000D',
      '00080020',
      'limit',
      'offset',
      'fuzzymatching',
      'includefield',
      'orderby',
      'NumberOfStudyRelatedInstances',
      'ReferringPhysicianName',
      'StudyDescription',
      'x',
      '',
    );
    const values = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.constantFrom(
        '*',
        '?',
        '-',
        '20200101-',
        '-20200101',
        '2020-01-01',
        '1.2.3\\4.5',
        'all',
        'true',
        '-1',
        '99999999999999999999',
        '1e3',
        '%00',
        '\u0000',
        'a*b?c',
        '',
      ),
    );
    await check(
      'QIDO-RS parameters',
      fc.asyncProperty(
        fc.constantFrom('/dicomweb/studies', '/dicomweb/series', '/dicomweb/instances', '/dicomweb/studies/1.2.3/series', '/dicomweb/studies/1.2.3/instances'),
        fc.array(fc.tuple(keys, values), { maxLength: 6 }),
        async (path, params) => {
          const query = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
          const a = await request(`${server.url}${path}?${query}`, { headers: { accept: 'application/dicom+json' }, deadlineMs: BUDGET_MS });
          acceptable('qido', a);
        },
      ),
    );
    if (!server.running) failures.push(`the server process died: ${server.output.join('').slice(-2000)}`);
  } finally {
    await server.stop().catch(() => {});
    await storage.close();
  }
  return {
    scenario: '5 fuzzing',
    backend,
    failures,
    seconds: (performance.now() - started) / 1000,
    figures: {
      seed: options.seed,
      'runs per property': numRuns,
      requests,
      statuses: [...statuses]
        .sort()
        .map(([s, n]) => `${s}×${n}`)
        .join(' '),
    },
  };

  /** Every instance that is not acknowledged is absent from the index; every acknowledged one present. */
  async function nothingStoredFromRefused(a: Answer, instances: { sop: string }[]) {
    let stored: string[] = [];
    try {
      const json = JSON.parse(a.body.toString('utf8')) as Record<string, { Value?: Record<string, { Value?: string[] }>[] }>;
      stored = (json['00081199']?.Value ?? []).map((item) => String(item['00081155']?.Value?.[0]));
    } catch {
      // a problem+json or empty answer: nothing acknowledged
    }
    for (const i of instances) {
      const indexed = await isIndexed(i.sop);
      if (indexed && !stored.includes(i.sop)) throw new Error(`${i.sop} was not acknowledged (${a.status}) but is indexed`);
      if (!indexed && stored.includes(i.sop)) throw new Error(`${i.sop} was acknowledged but is not indexed`);
    }
  }
}

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bits: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number };

/**
 * Sets the length field of the n-th (mod count) explicit-VR element of the dataset after the File
 * Meta to `length` (an inflated or odd length).
 */
function inflate(bytes: Buffer, n: number, length: number): void {
  const offsets: { at: number; long: boolean }[] = [];
  let at = 132;
  while (at + 8 <= bytes.length) {
    const vr = bytes.toString('latin1', at + 4, at + 6);
    if (!/^[A-Z]{2}$/.test(vr)) break;
    const long = ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].includes(vr);
    const valueLength = long ? bytes.readUInt32LE(at + 8) : bytes.readUInt16LE(at + 6);
    offsets.push({ at, long });
    at += (long ? 12 : 8) + valueLength;
  }
  if (!offsets.length) return;
  const target = offsets[n % offsets.length]!;
  if (target.long) bytes.writeUInt32LE(length >>> 0, target.at + 8);
  else bytes.writeUInt16LE(length & 0xffff, target.at + 6);
}
