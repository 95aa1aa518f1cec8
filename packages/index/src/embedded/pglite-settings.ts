/**
 * PostgreSQL settings of the embedded index (PGlite), given on its command line at every start, so
 * that they hold for a data directory made by any earlier version too (a setting in postgresql.conf
 * would need the file rewritten; `-c` overrides it).
 *
 * Why these values: PGlite is one PostgreSQL backend inside the server process, in a WebAssembly
 * memory that grows and never shrinks, so every buffer PostgreSQL sizes for a multi-user server on a
 * dedicated machine is resident memory of the server itself. What each one cost is measured in
 * docs/benchmarks.md ("Fourth round", "The embedded default"). The operating system's page cache stays
 * behind PGlite's own buffers (every block is a file read through Node's fs), so smaller buffers cost a
 * copy, not a disk read, for an index that fits in memory.
 */
export const EMBEDDED_SETTINGS: Readonly<Record<string, string>> = {
  // PostgreSQL's buffer cache, part of the shared memory it maps at start, which Emscripten's
  // anonymous mmap zeroes: resident in full from the first moment, 128 MB by default. 16 MB: an idle
  // index 112 MB smaller, and no measurable cost on the lookups of a 62 MB index.
  shared_buffers: '16MB',
  // Shared memory for connections that cannot exist (PGlite is one backend): 16 MB at 100.
  max_connections: '4',
  // Index builds (migrations over a populated index) may take this much once, and the WebAssembly
  // memory keeps it: 16 MB instead of 64 bounds that peak (a build then sorts in more passes).
  maintenance_work_mem: '16MB',
};

/** `-c name=value` pairs for PGlite's `startParams`, after its defaults. */
export function embeddedStartParams(): string[] {
  return Object.entries(EMBEDDED_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

/** The same for initdb, which writes them into a new data directory's postgresql.conf. */
export function embeddedInitDbParams(): string[] {
  return Object.entries(EMBEDDED_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}
