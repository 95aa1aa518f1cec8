import { HttpProblem } from '@tessera/http';

/**
 * `{frameList}` of a frames URL: comma-separated 1-based frame numbers, kept in the requested order,
 * repeats allowed. `0`, negative or non-integer numbers → 400 (digest WADORS-5).
 */
export function parseFrameList(list: string): number[] {
  const items = list.split(',');
  const numbers = items.map((item) => (/^\d+$/.test(item.trim()) ? Number(item.trim()) : NaN));
  if (numbers.some((n) => !Number.isSafeInteger(n) || n < 1)) {
    throw new HttpProblem(400, 'INVALID_FRAME_LIST', `'${list}' is not a list of frame numbers (1-based, comma-separated; PS3.18 §8.7.3.3)`);
  }
  return numbers;
}
