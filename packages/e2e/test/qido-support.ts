import type { Test } from 'tap';
import { type AttributeValue, ctInstance, encodeInstance, multipartBuffer, readShared, type TestServer } from '@tessera/testkit';

/** Helpers shared by the QIDO-RS test files (digest QIDO-*, MATCH-*): store through STOW, search over HTTP. */

export type Dataset = Record<string, { vr: string; Value?: any[]; BulkDataURI?: string; InlineBinary?: string }>;

export const ROOT = '/dicomweb';

/** Stores instances through STOW-RS (the way data really arrives) and fails the test if one is refused. */
export async function store(t: Test, server: TestServer, parts: Buffer[]): Promise<void> {
  const { contentType, payload } = await multipartBuffer(parts);
  const res = await server.app.inject({ method: 'POST', url: `${ROOT}/studies`, headers: { 'content-type': contentType }, payload });
  // 202 with warnings only (e.g. a charset the reader flags) still stored everything.
  const failed = res.statusCode === 202 && /"0008119[8A]"/.test(res.body);
  if (res.statusCode !== 200 && (res.statusCode !== 202 || failed)) t.fail(`STOW answered ${res.statusCode}: ${res.body.slice(0, 500)}`);
}

/** A synthetic instance with chosen attribute values (keywords). */
export const instance = (attributes: Record<string, AttributeValue>) => encodeInstance(ctInstance(attributes));
export const shared = (path: string) => readShared(path);

export interface SearchAnswer {
  status: number;
  body: string;
  results: Dataset[];
  warnings: string[];
  headers: Record<string, string | string[] | number | undefined>;
}

/** GET a QIDO-RS URL (relative to the service root). */
export async function search(server: TestServer, path: string, headers: Record<string, string> = { accept: 'application/dicom+json' }): Promise<SearchAnswer> {
  const res = await server.app.inject({ method: 'GET', url: `${ROOT}${path}`, headers });
  const warning = res.headers.warning;
  const warnings = warning === undefined ? [] : Array.isArray(warning) ? warning : String(warning).split(/,\s*(?=299 )/);
  let results: Dataset[] = [];
  if (res.statusCode === 200) results = JSON.parse(res.body) as Dataset[];
  return { status: res.statusCode, body: res.body, results, warnings, headers: res.headers };
}

/** The first value of an attribute of a result. */
export const value = (ds: Dataset | undefined, tag: string): any => ds?.[tag]?.Value?.[0];
/** The UIDs of a result list at one tag. */
export const uids = (results: Dataset[], tag = '0020000D'): string[] => results.map((r) => String(value(r, tag)));
export const sorted = (values: string[]) => [...values].sort();

/** Checks the JSON-2/3 shape of every result: sorted 8-hex keys, no group length, one value form. */
export function checkJsonShape(t: Test, answer: SearchAnswer, rule = 'JSON-2/3'): void {
  for (const ds of answer.results) {
    const keys = Object.keys(ds);
    t.ok(
      keys.every((key) => /^[0-9A-F]{8}$/.test(key) && !key.endsWith('0000')),
      `${rule}: keys are 8 uppercase hex digits, no group length`,
    );
    t.same(keys, [...keys].sort(), `${rule}: attributes in ascending tag order`);
    for (const attr of Object.values(ds)) {
      t.ok(attr.BulkDataURI === undefined && attr.InlineBinary === undefined, `${rule}: QIDO results carry no bulk data`);
      if (attr.Value !== undefined) t.ok(Array.isArray(attr.Value) && attr.Value.length > 0, `${rule}: Value is a non-empty array`);
    }
  }
}
