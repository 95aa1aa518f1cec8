/** Bounds of the one `Warning` header field a response carries. */
export const WARNING_HEADER_MAX_BYTES = 1024;
const WARNING_TEXT_MAX_CHARS = 200;

/**
 * The value of the single `Warning` header of a response: each text as a `299 <agent>: <text>`
 * warning-value (PS3.18 §8.4, the form the digest's COMMON-2 shows), comma-separated in one field,
 * in the given order. Texts are made printable ASCII and cut at 200 characters; the field stops
 * before `maxBytes`, and a last value says how many warnings were left out. Callers put the texts
 * a client must see (the QIDO-RS "additional results" count) first. Without this bound, a request
 * with 1,000 unknown parameters earned 105 KB of headers, which proxies and clients reject.
 */
export function warningHeader(agent: string, texts: readonly string[], maxBytes = WARNING_HEADER_MAX_BYTES): string | undefined {
  if (texts.length === 0) return undefined;
  const value = (text: string) => `299 ${agent}: ${text}`;
  const values = texts.map((text) => value(printable(text)));
  const all = values.join(', ');
  if (all.length <= maxBytes) return all;
  const kept: string[] = [];
  let length = 0;
  for (const [i, v] of values.entries()) {
    // Room for this value and for the tail that counts the rest (its digits included).
    const tail = value(`${texts.length - i - 1} more warnings were left out`);
    const next = length + (kept.length ? 2 : 0) + v.length;
    if (next + 2 + tail.length > maxBytes) break;
    kept.push(v);
    length = next;
  }
  // The first text is always sent, shortened if it must be, so the field is never only a count.
  if (kept.length === 0) {
    const tail = value(`${texts.length - 1} more warnings were left out`);
    const room = Math.max(0, maxBytes - tail.length - 2 - value('').length - 3);
    kept.push(value(`${printable(texts[0]!).slice(0, room)}...`));
  }
  return [...kept, value(`${texts.length - kept.length} more warnings were left out`)].join(', ');
}

/** Header values are ASCII without control characters; one text is bounded too. */
function printable(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > WARNING_TEXT_MAX_CHARS ? `${ascii.slice(0, WARNING_TEXT_MAX_CHARS - 3)}...` : ascii;
}
