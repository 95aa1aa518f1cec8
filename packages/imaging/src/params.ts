/*
 * The rendering parameters as the renderer takes them. Parsing them from PS3.18 query strings is
 * the services' job (wado-rs `rendered-params.ts`, wado-uri `wado-uri-render-params.ts`).
 */

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
