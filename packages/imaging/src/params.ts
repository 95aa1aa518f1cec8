import { RenderParameterError } from './errors.js';
import { type Window, isUsableWindow } from './pixels.js';

/** `viewport=vw,vh[,sx,sy,sw,sh]` (PS3.18 §8.3.5.1.3); a negative sw/sh flips that axis. */
export interface Viewport {
  vw: number;
  vh: number;
  sx?: number;
  sy?: number;
  sw?: number;
  sh?: number;
}

/** WADO-URI `region=xmin,ymin,xmax,ymax`, normalised to the source (0.0–1.0). */
export interface Region {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

export type IccProfile = 'no' | 'yes' | 'srgb';
export type AnnotationKeyword = 'patient' | 'technique';

export interface RenderedParams {
  quality?: number;
  viewport?: Viewport;
  window?: Window;
  /** Requested annotations; this package does not burn them in (see `warnings`). */
  annotation: AnnotationKeyword[];
  iccprofile?: IccProfile;
  /** Texts for `Warning: 299` headers (ignored annotation keywords). */
  warnings: string[];
}

export interface WadoUriRenderParams {
  frameNumber?: number;
  rows?: number;
  columns?: number;
  region?: Region;
  window?: Window;
  quality?: number;
  annotation: AnnotationKeyword[];
  presentation?: { seriesUid: string; instanceUid: string };
  warnings: string[];
}

/** A query as fastify (`Record` of string or string[]) or URLSearchParams presents it. */
export type QueryInput = URLSearchParams | Record<string, unknown>;

function valuesOf(query: QueryInput, name: string): string[] {
  if (query instanceof URLSearchParams) return query.getAll(name);
  const value = query[name];
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** The single value of a parameter, undefined when absent; a repeated parameter is a 400. */
function single(query: QueryInput, name: string): string | undefined {
  const values = valuesOf(query, name);
  if (values.length > 1) throw new RenderParameterError(name, 'must be given once');
  return values[0];
}

const INTEGER = /^\d+$/;
const SIGNED_INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function positiveInteger(name: string, text: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = text.trim();
  if (!INTEGER.test(value)) throw new RenderParameterError(name, `${JSON.stringify(text)} is not a positive integer`);
  const n = Number(value);
  if (n < 1 || n > max) throw new RenderParameterError(name, `${n} is out of range 1–${max}`);
  return n;
}

function decimal(name: string, text: string): number {
  const value = text.trim();
  if (!DECIMAL.test(value)) throw new RenderParameterError(name, `${JSON.stringify(text)} is not a decimal number`);
  return Number(value);
}

const MAX_DIMENSION = 16384;

function parseQuality(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === '') throw new RenderParameterError(name, 'has no value');
  return positiveInteger(name, text, 100);
}

function parseViewport(text: string | undefined, kind: 'rendered' | 'thumbnail'): Viewport | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length !== 2 && parts.length !== 6) {
    throw new RenderParameterError('viewport', kind === 'thumbnail' ? 'must be vw,vh' : 'must be vw,vh or vw,vh,sx,sy,sw,sh');
  }
  if (parts.length === 6 && kind === 'thumbnail') throw new RenderParameterError('viewport', 'a thumbnail accepts only vw,vh');
  const viewport: Viewport = { vw: positiveInteger('viewport', parts[0]!, MAX_DIMENSION), vh: positiveInteger('viewport', parts[1]!, MAX_DIMENSION) };
  if (parts.length === 6) {
    // Each region value may be left empty to take its default (0, 0, full width, full height).
    const [sx, sy, sw, sh] = parts.slice(2);
    if (sx !== '') {
      if (!INTEGER.test(sx!)) throw new RenderParameterError('viewport', `sx ${JSON.stringify(sx)} is not a non-negative integer`);
      viewport.sx = Number(sx);
    }
    if (sy !== '') {
      if (!INTEGER.test(sy!)) throw new RenderParameterError('viewport', `sy ${JSON.stringify(sy)} is not a non-negative integer`);
      viewport.sy = Number(sy);
    }
    for (const [key, value] of [['sw', sw], ['sh', sh]] as const) {
      if (value === '') continue;
      if (!SIGNED_INTEGER.test(value!) || Number(value) === 0) throw new RenderParameterError('viewport', `${key} ${JSON.stringify(value)} is not a non-zero integer`);
      viewport[key] = Number(value);
    }
  }
  return viewport;
}

const WINDOW_FUNCTIONS = new Set(['linear', 'linear-exact', 'sigmoid']);

function parseWindow(text: string | undefined): Window | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length !== 3 || parts.some((part) => part === '')) throw new RenderParameterError('window', 'must be center,width,function');
  const center = decimal('window', parts[0]!);
  const width = decimal('window', parts[1]!);
  const fn = parts[2]!.toLowerCase();
  if (!WINDOW_FUNCTIONS.has(fn)) throw new RenderParameterError('window', `function ${JSON.stringify(parts[2])} is not linear, linear-exact or sigmoid`);
  const window: Window = { center, width, function: fn as Window['function'] };
  if (!isUsableWindow(window)) throw new RenderParameterError('window', fn === 'linear' ? 'width must be at least 1' : 'width must be positive');
  return window;
}

const ANNOTATIONS = new Set<string>(['patient', 'technique']);

function parseAnnotation(query: QueryInput, names: string[]): { annotation: AnnotationKeyword[]; warnings: string[] } {
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

function parseIccProfile(text: string | undefined): IccProfile | undefined {
  if (text === undefined) return undefined;
  const value = text.trim().toLowerCase();
  if (value === 'no' || value === 'yes' || value === 'srgb') return value;
  if (value === 'adobergb' || value === 'rommrgb') throw new RenderParameterError('iccprofile', `${value} is not supported (only no, yes, srgb)`);
  throw new RenderParameterError('iccprofile', `${JSON.stringify(text)} is not no, yes, srgb, adobergb or rommrgb`);
}

/**
 * Validates the query of a WADO-RS `/rendered` or `/thumbnail` request (digest WADORS-8/9). Throws
 * RenderParameterError (→ 400) for every ill-formed value. Thumbnails take only `viewport=vw,vh`;
 * other rendering parameters on a thumbnail are ignored like any unknown parameter.
 */
export function parseRenderedParams(query: QueryInput, kind: 'rendered' | 'thumbnail'): RenderedParams {
  if (kind === 'thumbnail') return { viewport: parseViewport(single(query, 'viewport'), kind), annotation: [], warnings: [] };
  const { annotation, warnings } = parseAnnotation(query, ['annotation']);
  const params: RenderedParams = { annotation, warnings };
  const quality = parseQuality('quality', single(query, 'quality'));
  if (quality !== undefined) params.quality = quality;
  const viewport = parseViewport(single(query, 'viewport'), kind);
  if (viewport) params.viewport = viewport;
  const window = parseWindow(single(query, 'window'));
  if (window) params.window = window;
  const iccprofile = parseIccProfile(single(query, 'iccprofile'));
  if (iccprofile) params.iccprofile = iccprofile;
  return params;
}

function parseRegion(text: string | undefined): Region | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',');
  if (parts.length !== 4) throw new RenderParameterError('region', 'must be xmin,ymin,xmax,ymax');
  const [xmin, ymin, xmax, ymax] = parts.map((part) => decimal('region', part)) as [number, number, number, number];
  if ([xmin, ymin, xmax, ymax].some((v) => v < 0 || v > 1)) throw new RenderParameterError('region', 'values must lie between 0.0 and 1.0');
  if (xmin >= xmax) throw new RenderParameterError('region', 'xmin must be less than xmax');
  if (ymin >= ymax) throw new RenderParameterError('region', 'ymin must be less than ymax');
  return { xmin, ymin, xmax, ymax };
}

/**
 * Validates the rendering parameters of a WADO-URI request (digest WADOURI-5). With
 * `numberOfFrames` (from the instance), `frameNumber` is checked against it: a frameNumber on a
 * single-frame object, or beyond the last frame, is a 400.
 */
export function parseWadoUriRenderParams(query: QueryInput, instance: { numberOfFrames?: number } = {}): WadoUriRenderParams {
  const { annotation, warnings } = parseAnnotation(query, ['annotation', 'imageAnnotation']);
  const params: WadoUriRenderParams = { annotation, warnings };

  const frameValues = valuesOf(query, 'frameNumber');
  if (frameValues.length > 1) throw new RenderParameterError('frameNumber', 'must be given once');
  if (frameValues.length === 1) {
    const frameNumber = positiveInteger('frameNumber', frameValues[0]!);
    if (instance.numberOfFrames !== undefined) {
      if (instance.numberOfFrames <= 1) throw new RenderParameterError('frameNumber', 'the object is not multi-frame');
      if (frameNumber > instance.numberOfFrames) throw new RenderParameterError('frameNumber', `${frameNumber} exceeds NumberOfFrames ${instance.numberOfFrames}`);
    }
    params.frameNumber = frameNumber;
  }

  const rows = single(query, 'rows');
  if (rows !== undefined) params.rows = positiveInteger('rows', rows, MAX_DIMENSION);
  const columns = single(query, 'columns');
  if (columns !== undefined) params.columns = positiveInteger('columns', columns, MAX_DIMENSION);
  const region = parseRegion(single(query, 'region'));
  if (region) params.region = region;
  const quality = parseQuality('imageQuality', single(query, 'imageQuality'));
  if (quality !== undefined) params.quality = quality;

  const center = single(query, 'windowCenter');
  const width = single(query, 'windowWidth');
  if ((center === undefined) !== (width === undefined)) {
    throw new RenderParameterError(center === undefined ? 'windowWidth' : 'windowCenter', 'windowCenter and windowWidth must be given together');
  }
  const seriesUid = single(query, 'presentationSeriesUID');
  const instanceUid = single(query, 'presentationUID');
  if ((seriesUid === undefined) !== (instanceUid === undefined)) {
    throw new RenderParameterError(seriesUid === undefined ? 'presentationUID' : 'presentationSeriesUID', 'presentationSeriesUID and presentationUID must be given together');
  }
  if (center !== undefined && width !== undefined) {
    const contentTypes = valuesOf(query, 'contentType').join(',').toLowerCase();
    if (contentTypes.includes('application/dicom')) throw new RenderParameterError('windowCenter', 'windowing is not allowed with contentType=application/dicom');
    if (seriesUid !== undefined) throw new RenderParameterError('windowCenter', 'windowing is not allowed with a presentation state');
    const window: Window = { center: decimal('windowCenter', center), width: decimal('windowWidth', width), function: 'linear' };
    if (!isUsableWindow(window)) throw new RenderParameterError('windowWidth', 'must be at least 1');
    params.window = window;
  }
  if (seriesUid !== undefined && instanceUid !== undefined) {
    if (params.frameNumber !== undefined) throw new RenderParameterError('frameNumber', 'frameNumber is not allowed with a presentation state');
    params.presentation = { seriesUid: seriesUid.trim(), instanceUid: instanceUid.trim() };
  }
  return params;
}
