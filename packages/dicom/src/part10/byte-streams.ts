import { createInflateRaw } from 'node:zlib';
import { type Vr, NUMBER_WIDTH } from '../vr.js';
import { DicomParseError } from './errors.js';
import type { ByteSource } from './read-part10.js';

/** The inflated dataset of a deflated object (PS3.5 §A.5), as a stream of chunks. */
export async function* inflate(input: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  const inflater = createInflateRaw();
  input.pipe(inflater);
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) yield chunk;
  } finally {
    inflater.destroy();
    (input as unknown as { destroy?: () => void }).destroy?.();
  }
}

/** Bytes `[start, start + length)` of a stream of chunks (used to cut frames and values out of inflated data). */
export async function* sliceStream(chunks: AsyncIterable<Buffer>, start: number, length: number): AsyncGenerator<Buffer> {
  let pos = 0;
  const end = start + length;
  for await (const chunk of chunks) {
    const chunkEnd = pos + chunk.length;
    if (chunkEnd > start) yield chunk.subarray(Math.max(0, start - pos), Math.min(chunk.length, end - pos));
    pos = chunkEnd;
    if (pos >= end) return;
  }
  if (pos < end) throw new DicomParseError(`data ends at byte ${pos}, before byte ${end}`);
}

/** Swaps each `width`-byte value of a stream of chunks (big → little endian), carrying split values. */
export async function* swapStream(chunks: AsyncIterable<Buffer>, width: number): AsyncGenerator<Buffer> {
  if (width <= 1) {
    yield* chunks;
    return;
  }
  let carry = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const data = carry.length ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
    const whole = data.length - (data.length % width);
    carry = Buffer.from(data.subarray(whole));
    if (whole > 0) yield swapBytes(data.subarray(0, whole), width);
  }
  if (carry.length) yield carry;
}

/** Swaps values of `width` bytes in place (`bytes.length` must be a multiple of `width`). */
export function swapBytes(bytes: Buffer, width: number): Buffer {
  if (width === 2) return bytes.swap16();
  if (width === 4) return bytes.swap32();
  if (width === 8) return bytes.swap64();
  return bytes;
}

/** Byte width of the values of a VR for byte swapping; AT is a pair of 16-bit numbers, OW pixel data 16-bit words. */
export function swapWidth(vr: Vr): number {
  if (vr === 'OW' || vr === 'AT') return 2;
  if (vr === 'OF' || vr === 'OL') return 4;
  if (vr === 'OD' || vr === 'OV') return 8;
  return NUMBER_WIDTH[vr] ?? 1;
}

/** Streams `length` bytes from `offset` of a source. */
export async function* streamRange(source: ByteSource, offset: number, length: number): AsyncGenerator<Buffer> {
  if (length <= 0) return;
  if (source.range) yield* source.range(offset, length);
  else yield* sliceStream(source.stream(offset) as AsyncIterable<Buffer>, 0, length);
}

/** `first`, then the chunks of `rest`. */
export async function* prepend(first: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  yield* rest;
}

/** The given buffers as a stream of chunks. */
export async function* fromBuffers(buffers: Buffer[]): AsyncGenerator<Buffer> {
  for (const buffer of buffers) yield buffer;
}
