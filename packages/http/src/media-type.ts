/** A parsed media type: lower-cased type/subtype, parameter names lower-cased, values unquoted. */
export interface MediaType {
  type: string;
  parameters: Record<string, string>;
}

/**
 * Parses `multipart/related; type="application/dicom"; boundary=abc` (RFC 9110 §8.3.1): quoted
 * and unquoted values mean the same (digest COMMON-1, NEG-9).
 */
export function parseMediaType(value: string | undefined): MediaType | undefined {
  if (!value) return undefined;
  const [head, ...rest] = splitOutsideQuotes(value, ';');
  const type = head?.trim().toLowerCase();
  if (!type || !/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+*-]+$/.test(type)) return undefined;
  const parameters: Record<string, string> = {};
  for (const param of rest) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    const name = param.slice(0, eq).trim().toLowerCase();
    let v = param.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    parameters[name] = v;
  }
  return { type, parameters };
}

/** Splits on `separator` except inside double quotes. */
export function splitOutsideQuotes(value: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    if (c === separator && !quoted) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}
