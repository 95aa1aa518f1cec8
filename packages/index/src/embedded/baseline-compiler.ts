import { setFlagsFromString } from 'node:v8';

/**
 * Runs `open` (which compiles PGlite's WebAssembly PostgreSQL) with V8's baseline WebAssembly
 * compiler only (Liftoff): the module compiled meanwhile is never recompiled by the optimising
 * compiler (TurboFan), and the flag is restored afterwards, so modules compiled later (the image
 * codecs) are optimised as usual.
 *
 * Why: V8 compiles the 9 MB PostgreSQL module with Liftoff first and recompiles the functions that
 * run often with TurboFan, in the background, for ever after. For PostgreSQL that recompilation is
 * large (the parser, planner and executor are big functions) and its memory stays resident: an
 * embedded index opened and queried 3,000 times held 255 MB against 167 MB with Liftoff only, and
 * the lookups the server sends cost the same CPU either way (measured in docs/benchmarks.md,
 * "Fourth round"): they are short, and most of their time is spent outside the compiled code.
 *
 * The flag is process-wide while `open` runs (V8 has no per-module setting), so another module
 * compiled at that moment would be affected too; the server opens its index before it serves
 * anything. A process started with `--liftoff-only` keeps it.
 */
export async function withBaselineWasmCompiler<T>(open: () => Promise<T>): Promise<T> {
  if (process.execArgv.includes('--liftoff-only')) return open();
  setFlagsFromString('--liftoff-only');
  try {
    return await open();
  } finally {
    setFlagsFromString('--no-liftoff-only');
  }
}
