import t from 'tap';
import { parseFrameList } from './frame-list.js';
import { framesPath } from './wado-routes.js';

t.test('parseFrameList: 1-based frame numbers in the requested order (WADORS-5)', async (t) => {
  const accepted: Array<[string, number[]]> = [
    ['1', [1]],
    ['3,1,2', [3, 1, 2]],
    ['2,2', [2, 2]],
    [' 4 , 5 ', [4, 5]],
    [Array.from({ length: 300 }, (_, i) => i + 1).join(','), Array.from({ length: 300 }, (_, i) => i + 1)],
  ];
  for (const [list, expected] of accepted) t.same(parseFrameList(list), expected, `WADORS-5: '${list.length > 20 ? `${list.slice(0, 20)}…` : list}'`);
  for (const list of ['0', '-1', '1.5', 'a', '1,,2', '', '1,', '99999999999999999999', '1/2']) {
    t.throws(() => parseFrameList(list), { name: 'HttpProblem', status: 400, code: 'INVALID_FRAME_LIST' }, `WADORS-5: '${list}' → 400`);
  }
});

t.test('framesPath: the frames wildcard carries frame lists and their rendered resources (WADORS-5, WADORS-8/9)', async (t) => {
  const cases: Array<[string, ReturnType<typeof framesPath>]> = [
    ['1,2,3', { list: '1,2,3', resource: 'frames' }],
    ['1/rendered', { list: '1', resource: 'rendered' }],
    ['2,4/thumbnail', { list: '2,4', resource: 'thumbnail' }],
    ['1/other', { list: '1/other', resource: 'frames' }],
    ['rendered', { list: 'rendered', resource: 'frames' }],
  ];
  for (const [rest, expected] of cases) t.same(framesPath(rest), expected, `frames/${rest}`);
});
