import { type AnnotationKeyword, type Region, RenderParameterError, type Window, isUsableWindow } from '@tessera/imaging';
import { MAX_DIMENSION, type QueryInput, decimal, parseAnnotation, parseQuality, positiveInteger, single, valuesOf } from '@tessera/retrieve';

/** The rendering parameters of a WADO-URI Retrieve Rendered Instance request (PS3.18 §9.5.1.2). */
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
      if (frameNumber > instance.numberOfFrames)
        throw new RenderParameterError('frameNumber', `${frameNumber} exceeds NumberOfFrames ${instance.numberOfFrames}`);
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
    throw new RenderParameterError(
      seriesUid === undefined ? 'presentationUID' : 'presentationSeriesUID',
      'presentationSeriesUID and presentationUID must be given together',
    );
  }
  if (center !== undefined && width !== undefined) {
    const contentTypes = valuesOf(query, 'contentType').join(',').toLowerCase();
    if (contentTypes.includes('application/dicom'))
      throw new RenderParameterError('windowCenter', 'windowing is not allowed with contentType=application/dicom');
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
