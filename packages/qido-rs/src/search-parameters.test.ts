import t from 'tap';
import { HttpProblem } from '@tessera/http';
import { decodeQueryString, parseSearchQuery } from './search-parameters.js';

/** The query parser alone (digest QIDO-3, QIDO-5, QIDO-12, MATCH-1..10): no database, no HTTP. */

const parse = (query: string, level: 'study' | 'series' | 'instance' = 'study') => parseSearchQuery({ level }, decodeQueryString(query), { maxLimit: 100 });

const status = (fn: () => unknown) => {
  try {
    fn();
    return 200;
  } catch (error) {
    return error instanceof HttpProblem ? error.status : 500;
  }
};

t.test('filters per VR', async (t) => {
  t.same(parse('StudyDate=20130509').query.filters, [{ kind: 'exact', tag: '00080020', value: '20130509' }], 'MATCH-2: DA single value');
  t.same(
    parse('StudyTime=-1030').query.filters,
    [{ kind: 'range', tag: '00080030', from: null, to: '103059.999999' }],
    'MATCH-7: an upper bound ends at the last instant',
  );
  t.same(parse('StudyTime=10').query.filters, [{ kind: 'exact', tag: '00080030', value: '100000.000000' }], 'MATCH-2: TM by meaning');
  t.same(
    parse('StudyDate=20060705-20060707&StudyTime=1000-1800').query.filters,
    [{ kind: 'dateTimeRange', dateTag: '00080020', timeTag: '00080030', from: '20060705100000.000000', to: '20060707180059.999999' }],
    'MATCH-8',
  );
  t.same(parse('PatientName=Doe^John^^').query.filters, [{ kind: 'personName', tag: '00100010', groups: ['doe^john'], anyGroup: true }], 'MATCH-3');
  t.same(parse('PatientName=jér&fuzzymatching=true').query.filters, [{ kind: 'fuzzyName', tag: '00100010', words: ['jér'] }], 'QIDO-10');
  t.same(
    parse('ModalitiesInStudy=CT%2CMR').query.filters,
    [
      {
        kind: 'anyOf',
        filters: [
          { kind: 'exact', tag: '00080061', value: 'CT' },
          { kind: 'exact', tag: '00080061', value: 'MR' },
        ],
      },
    ],
    'D3',
  );
  t.same(parse('StudyInstanceUID=1.2.3%5C1.2.4').query.filters, [{ kind: 'uidList', tag: '0020000D', uids: ['1.2.3', '1.2.4'] }], 'D4');
  t.same(parse('SeriesNumber=%2B7', 'series').query.filters, [{ kind: 'number', tag: '00200011', value: 7 }], 'MATCH-2: IS numeric');
  t.same(parse('AccessionNumber=*').query.filters, [], 'MATCH-4: * alone is universal');
});

t.test('includefield, limit, warnings', async (t) => {
  t.same(parse('includefield=00081030,PatientAge&includefield=0008103e').query.includeFields, ['00081030', '00101010', '0008103E'], 'QIDO-5');
  t.equal(parse('includefield=00081030&includefield=all').query.includeFields, 'all', 'QIDO-5: all wins');
  t.equal(parse('limit=1000').query.limit, 100, 'D13: clamped');
  t.equal(parse('').query.limit, 100, 'QIDO-12: default = maximum');
  t.match(parse('Modality=CT').warnings, [/series-level/], 'QIDO-1: level not allowed on /studies');
  t.same(parse('Modality=CT', 'series').warnings, [], 'QIDO-1: allowed on /series');
});

t.test('400s', async (t) => {
  for (const q of [
    'limit=0',
    'offset=-1',
    'fuzzymatching=1',
    'StudyDate=2013',
    'StudyDate=20130510-20130509',
    'StudyTime=1800-0600',
    'StudyInstanceUID=1.2.*',
    'PatientID=a&00100020=b',
    'ModalitiesInStudy=CT,M*&multiplevaluematching=true',
    'PatientName=%ZZ',
  ]) {
    t.equal(
      status(() => parse(q)),
      400,
      q,
    );
  }
});

t.test('a NUL in any parameter is a 400 naming it (issue #21 item 9)', async (t) => {
  for (const query of ['PatientName=%00', 'PatientName=A%00B', 'includefield=%00', 'limit=%00', 'Patient%00Name=x', 'StudyDate=2020%00']) {
    t.equal(
      status(() => decodeQueryString(query)),
      400,
      `${query} → 400`,
    );
  }
  t.throws(() => decodeQueryString('PatientID=1&PatientName=%00'), /query parameter PatientName contains a NUL/, 'the problem names the parameter');
  t.same(decodeQueryString('PatientName=A%01B'), [['PatientName', 'A\u0001B']], 'other control characters are left to the matching rules');
});
