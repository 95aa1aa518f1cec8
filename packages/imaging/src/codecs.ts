import { createRequire } from 'node:module';

/** The part of dcmjs-codecs' API used here (the package's own index.d.ts describes more). */
interface CodecContext {
  getWidth(): number | undefined;
  getHeight(): number | undefined;
  getBitsAllocated(): number | undefined;
  getBitsStored(): number | undefined;
  getSamplesPerPixel(): number | undefined;
  getPhotometricInterpretation(): string | undefined;
  getDecodedBuffer(): Uint8Array | undefined;
}

interface CodecContextInit {
  width: number;
  height: number;
  bitsAllocated: number;
  bitsStored: number;
  samplesPerPixel: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  photometricInterpretation: string;
  encodedBuffer: Uint8Array;
}

export type NativeDecoder = 'decodeRle' | 'decodeJpeg' | 'decodeJpegLs' | 'decodeJpeg2000' | 'decodeHtJpeg2000' | 'decodeJpegXl';

interface DcmjsCodecs {
  Context: new (init: CodecContextInit) => CodecContext;
  NativeCodecs: {
    initializeAsync(options?: { logCodecsInfo?: boolean; logCodecsTrace?: boolean }): Promise<void>;
    isInitialized(): boolean;
  } & Record<NativeDecoder, (context: CodecContext, parameters?: { convertColorspaceToRgb?: boolean }) => CodecContext>;
}

/** Photometric interpretations the WASM context accepts (its Context.validate() rejects others). */
export const CODEC_PHOTOMETRICS = new Set([
  'MONOCHROME1',
  'MONOCHROME2',
  'PALETTE COLOR',
  'RGB',
  'YBR_FULL',
  'YBR_FULL_422',
  'YBR_PARTIAL_422',
  'YBR_PARTIAL_420',
  'YBR_ICT',
  'YBR_RCT',
  'CMYK',
  'ARGB',
  'HSV',
  'XYB',
]);

let loading: Promise<DcmjsCodecs> | undefined;

/**
 * dcmjs-codecs is a UMD/CommonJS bundle that requires dcmjs: load it with require (dcmjs's ESM
 * entry fails under tap's loader with ERR_REQUIRE_CYCLE_MODULE, see stack notes). The WASM module
 * (4 MB, read from the package's build folder) is compiled once per process, on first use.
 */
export function loadCodecs(): Promise<DcmjsCodecs> {
  loading ??= (async () => {
    const codecs = createRequire(import.meta.url)('dcmjs-codecs') as DcmjsCodecs;
    if (!codecs.NativeCodecs.isInitialized()) await codecs.NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
    return codecs;
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

export interface NativeDecodeInput extends Omit<CodecContextInit, 'encodedBuffer'> {
  decoder: NativeDecoder;
  encoded: Uint8Array;
  convertColorspaceToRgb: boolean;
}

export interface NativeDecodeOutput {
  bytes: Uint8Array;
  photometricInterpretation?: string;
  bitsAllocated?: number;
  rows?: number;
  columns?: number;
}

/** Decodes one codestream synchronously in the (single-threaded) WASM module. */
export async function decodeNative(input: NativeDecodeInput): Promise<NativeDecodeOutput> {
  const codecs = await loadCodecs();
  const { decoder, encoded, convertColorspaceToRgb, ...init } = input;
  const context = new codecs.Context({ ...init, encodedBuffer: encoded });
  const out = codecs.NativeCodecs[decoder](context, { convertColorspaceToRgb });
  const bytes = out.getDecodedBuffer();
  if (!bytes || bytes.length === 0) throw new Error(`${decoder} produced no pixels`);
  return {
    bytes,
    photometricInterpretation: out.getPhotometricInterpretation(),
    bitsAllocated: out.getBitsAllocated(),
    rows: out.getHeight(),
    columns: out.getWidth(),
  };
}
