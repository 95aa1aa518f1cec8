import t from 'tap';
import { RenderParameterError } from '@tessera/imaging';
import { decimal, parseAnnotation, parseQuality, positiveInteger, single, valuesOf } from './render-query.js';

/** The parameter named by the RenderParameterError `fn` throws, or what it returns. */
function outcome(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    if (error instanceof RenderParameterError) return { rejected: error.parameterName };
    throw error;
  }
}

t.test('query values as fastify and URLSearchParams give them (WADORS-8, WADOURI-5)', async (t) => {
  t.same(valuesOf({ a: ['1', '2'] }, 'a'), ['1', '2'], 'repeated in a record');
  t.same(valuesOf(new URLSearchParams('a=1&a=2'), 'a'), ['1', '2'], 'repeated in URLSearchParams');
  t.same(valuesOf({}, 'a'), [], 'absent');
  t.equal(single({ a: '1' }, 'a'), '1', 'one value');
  t.equal(single({}, 'a'), undefined, 'absent: undefined');
  t.same(
    outcome(() => single({ a: ['1', '2'] }, 'a')),
    { rejected: 'a' },
    'given twice → rejected',
  );
});

t.test('numbers of rendering parameters (WADORS-8, WADOURI-5)', async (t) => {
  const cases: Array<[string, () => unknown, unknown]> = [
    ['positive integer', () => positiveInteger('rows', ' 256 '), 256],
    ['0 is not positive', () => positiveInteger('rows', '0'), { rejected: 'rows' }],
    ['above the maximum', () => positiveInteger('rows', '17', 16), { rejected: 'rows' }],
    ['not an integer', () => positiveInteger('rows', '1.5'), { rejected: 'rows' }],
    ['decimal with exponent', () => decimal('windowCenter', '-1.5e2'), -150],
    ['not a decimal', () => decimal('windowCenter', '1,5'), { rejected: 'windowCenter' }],
    ['quality absent', () => parseQuality('quality', undefined), undefined],
    ['quality 100', () => parseQuality('quality', '100'), 100],
    ['quality 101', () => parseQuality('quality', '101'), { rejected: 'quality' }],
    ['quality empty', () => parseQuality('imageQuality', ' '), { rejected: 'imageQuality' }],
  ];
  for (const [name, fn, expected] of cases) t.same(outcome(fn), expected, name);
});

t.test('annotation keywords (WADORS-8, WADOURI-5)', async (t) => {
  t.same(
    parseAnnotation({ annotation: 'Patient,technique,patient' }, ['annotation']).annotation,
    ['patient', 'technique'],
    'known keywords, once each, lower case',
  );
  const mixed = parseAnnotation({ annotation: 'foo', imageAnnotation: 'patient' }, ['annotation', 'imageAnnotation']);
  t.same(mixed.annotation, ['patient'], 'every named parameter is read');
  t.match(mixed.warnings, [/annotation=foo is not a supported annotation/, /not burned in/], 'an unknown keyword and the unburned annotation are warnings');
  t.same(parseAnnotation({}, ['annotation']), { annotation: [], warnings: [] }, 'none asked: no warning');
  t.same(
    outcome(() => parseAnnotation({ annotation: 'patient,' }, ['annotation'])),
    { rejected: 'annotation' },
    'an empty keyword',
  );
  t.same(
    outcome(() => parseAnnotation({ annotation: '1x' }, ['annotation'])),
    { rejected: 'annotation' },
    'not a keyword',
  );
});
