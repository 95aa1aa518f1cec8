import { type AnnotationKeyword, RenderParameterError } from '@tessera/imaging';

/*
 * Query-string values shared by the rendering parameters of WADO-RS (PS3.18 §8.3.5) and WADO-URI
 * (PS3.18 §9.5.1.2): each service parses its own parameters with these. Every ill-formed value is a
 * RenderParameterError naming the parameter (the services answer 400).
 */

/** A query as fastify (`Record` of string or string[]) or URLSearchParams presents it. */
export type QueryInput = URLSearchParams | Record<string, unknown>;

/** Largest rows, columns or viewport dimension asked of a rendering. */
export const MAX_DIMENSION = 16384;

export function valuesOf(query: QueryInput, name: string): string[] {
  if (query instanceof URLSearchParams) return query.getAll(name);
  const value = query[name];
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** The single value of a parameter, undefined when absent; a repeated parameter is an error. */
export function single(query: QueryInput, name: string): string | undefined {
  const values = valuesOf(query, name);
  if (values.length > 1) throw new RenderParameterError(name, 'must be given once');
  return values[0];
}

export const INTEGER = /^\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function positiveInteger(name: string, text: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = text.trim();
  if (!INTEGER.test(value)) throw new RenderParameterError(name, `${JSON.stringify(text)} is not a positive integer`);
  const n = Number(value);
  if (n < 1 || n > max) throw new RenderParameterError(name, `${n} is out of range 1–${max}`);
  return n;
}

export function decimal(name: string, text: string): number {
  const value = text.trim();
  if (!DECIMAL.test(value)) throw new RenderParameterError(name, `${JSON.stringify(text)} is not a decimal number`);
  return Number(value);
}

/** A JPEG quality, 1–100. */
export function parseQuality(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === '') throw new RenderParameterError(name, 'has no value');
  return positiveInteger(name, text, 100);
}

const ANNOTATIONS = new Set<string>(['patient', 'technique']);

/** Annotation keywords of the parameters `names`; unknown keywords and the unburned annotations become warnings. */
export function parseAnnotation(query: QueryInput, names: string[]): { annotation: AnnotationKeyword[]; warnings: string[] } {
  const values = names.flatMap((name) => valuesOf(query, name).map((value) => [name, value] as const));
  const annotation: AnnotationKeyword[] = [];
  const warnings: string[] = [];
  for (const [name, value] of values) {
    const keywords = value.split(',').map((keyword) => keyword.trim());
    if (keywords.some((keyword) => keyword === '')) throw new RenderParameterError(name, 'has no value');
    for (const keyword of keywords) {
      if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(keyword)) throw new RenderParameterError(name, `${JSON.stringify(keyword)} is not a keyword`);
      const lower = keyword.toLowerCase();
      if (ANNOTATIONS.has(lower)) {
        if (!annotation.includes(lower as AnnotationKeyword)) annotation.push(lower as AnnotationKeyword);
      } else warnings.push(`${name}=${keyword} is not a supported annotation and was ignored`);
    }
  }
  // Burned-in annotation is not implemented: say so rather than silently dropping the request.
  if (annotation.length > 0) warnings.push(`annotations (${annotation.join(',')}) are not burned in by this server`);
  return { annotation, warnings };
}
