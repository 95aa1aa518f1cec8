import t from 'tap';
import { etagMatches, metadataChunks, metadataEtag } from './retrieve-metadata.js';

const BASE = 'https://pacs.example/dicomweb';

t.test('metadataEtag: one weak tag per scope version, base URL and form (WADORS-4)', async (t) => {
  const json = metadataEtag('3-1700000000000-42', BASE, 'json');
  t.match(json, /^W\/"[A-Za-z0-9_-]{27}"$/, 'a weak entity tag');
  t.equal(metadataEtag('3-1700000000000-42', BASE, 'json'), json, 'stable for the same version');
  const differs: Array<[string, string]> = [
    ['another version (an instance added, replaced or removed)', metadataEtag('4-1700000000001-57', BASE, 'json')],
    ['another base URL (BulkDataURIs differ)', metadataEtag('3-1700000000000-42', 'http://other/dicomweb', 'json')],
    ['the XML form (another representation, RFC 9110 §8.8.3)', metadataEtag('3-1700000000000-42', BASE, 'xml')],
  ];
  for (const [why, etag] of differs) t.not(etag, json, why);
});

t.test('etagMatches: the If-None-Match decision for a 304 (WADORS-4, RFC 9110 §13.1.2)', async (t) => {
  const etag = 'W/"abc"';
  const cases: Array<[string | string[] | undefined, boolean, string]> = [
    [undefined, false, 'no header → 200'],
    ['', false, 'empty header → 200'],
    ['W/"abc"', true, 'the same weak tag → 304'],
    ['"abc"', true, 'weak comparison ignores W/'],
    ['"x", W/"abc"', true, 'one of a list'],
    [['"x"', 'W/"abc"'], true, 'one of repeated headers'],
    ['*', true, '* matches any current representation'],
    ['W/"abd"', false, 'another tag → 200'],
    ['W/"ab"', false, 'a prefix is not a match'],
  ];
  for (const [header, expected, why] of cases) t.equal(etagMatches(header, etag), expected, why);
});

t.test('metadataChunks: stored JSON with absolute BulkDataURIs (WADORS-4, JSON-10)', async (t) => {
  const uids = { studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4' };
  const rows = [
    { ...uids, metadata: '{"7FE00010":{"vr":"OW","BulkDataURI":"bulkdata/7FE00010"}}' },
    { ...uids, sopInstanceUid: '1.2.3.5', metadata: '{"00100010":{"vr":"PN","Value":[{"Alphabetic":"\\"BulkDataURI\\":\\"bulkdata/x"}]}}' },
  ];
  const text = metadataChunks(rows, BASE).join('');
  const parsed = JSON.parse(text) as Array<Record<string, { BulkDataURI?: string; Value?: Array<{ Alphabetic: string }> }>>;
  t.equal(parsed.length, 2, 'one object per instance');
  t.equal(parsed[0]!['7FE00010']!.BulkDataURI, `${BASE}/studies/1.2/series/1.2.3/instances/1.2.3.4/bulkdata/7FE00010`, 'JSON-10: absolute BulkDataURI');
  t.equal(parsed[1]!['00100010']!.Value![0]!.Alphabetic, '"BulkDataURI":"bulkdata/x', 'the needle inside a string value is left alone');
  t.equal(metadataChunks([], BASE).join(''), '[]', 'no rows → an empty array');
});
