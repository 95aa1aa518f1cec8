import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';

/**
 * The prebuilt OHIF v3 dist assumes it is served at the site root: its webpack runtime loads chunks
 * and workers from `"/"`, its stylesheet takes its font from `url(/…)`, its index.html loads every
 * file by absolute path and sets `window.PUBLIC_URL = "/"` inline. These rewrites make the same
 * files work under any path prefix (`PUBLIC_URL=https://host/tessera`, a proxy's
 * `X-Forwarded-Prefix`) without writing to the dist (it may be shared and read-only):
 *
 * - files (JS, CSS, the web manifest) get prefix-independent literal edits, the same for every
 *   request, streamed from the file with the edits spliced in (no file is held in memory);
 * - index.html loses its inline `window.PUBLIC_URL` assignments (the generated `app-config.js`
 *   sets it, so the page needs no inline script of ours) and gets the prefix in its absolute paths,
 *   per request.
 */

/** One literal edit: every occurrence of `find` becomes `replace` (unless followed by `unlessNext`). */
interface Edit {
  find: string;
  replace: string;
  unlessNext?: string;
}

/**
 * The webpack public path at run time: in the page, the `window.PUBLIC_URL` set by app-config.js;
 * in a web worker (whose bundle sits at the root of the dist), the folder of its own script.
 */
const RUNTIME_PUBLIC_PATH = '(typeof window === "object" ? window.PUBLIC_URL || "/" : self.location.pathname.replace(/[^/]*$/, ""))';

/** The edits a dist file needs, by name (files at the top of the dist only). */
export function editsFor(name: string): Edit[] {
  if (name.endsWith('.js')) return [{ find: '__webpack_require__.p = "/";', replace: `__webpack_require__.p = ${RUNTIME_PUBLIC_PATH};` }];
  // Relative URLs in a stylesheet resolve against the stylesheet, which sits at the top of the dist.
  if (name.endsWith('.css'))
    return [
      { find: 'url(/', replace: 'url(', unlessNext: '/' },
      { find: 'url("/', replace: 'url("', unlessNext: '/' },
    ];
  // Icons of the web manifest: relative to the manifest, at the top of the dist.
  if (name === 'manifest.json') return [{ find: '"/assets/', replace: '"assets/' }];
  return [];
}

/** Whether a top-level file of the dist is served through `PatchedFile` (it may have edits). */
export const isPatchable = (name: string): boolean => editsFor(name).length > 0;

interface Splice {
  offset: number;
  length: number;
  replacement: Buffer;
}

/** A dist file with its edits located once (on first use), then streamed with them applied. */
export class PatchedFile {
  private plan?: Promise<{ splices: Splice[]; size: number; etag: string }>;

  constructor(
    private readonly path: string,
    private readonly edits: Edit[],
  ) {}

  /** Size and ETag of the edited file; the file is read once, on the first call, to find the edits. */
  describe(): Promise<{ size: number; etag: string }> {
    return this.located();
  }

  async stream(): Promise<Readable> {
    const { splices } = await this.located();
    const path = this.path;
    async function* pieces() {
      let position = 0;
      for (const splice of splices) {
        if (splice.offset > position) yield* createReadStream(path, { start: position, end: splice.offset - 1 });
        yield splice.replacement;
        position = splice.offset + splice.length;
      }
      yield* createReadStream(path, { start: position });
    }
    return Readable.from(pieces(), { objectMode: false });
  }

  private located() {
    if (!this.plan) {
      this.plan = this.locate();
      this.plan.catch(() => (this.plan = undefined));
    }
    return this.plan;
  }

  // Reads the whole file once: the dist is a fixed set of files (the largest, app.bundle, 17 MB),
  // not client input, and the result kept is only the list of offsets.
  private async locate() {
    const [content, info] = await Promise.all([readFile(this.path), stat(this.path)]);
    const splices: Splice[] = [];
    for (const edit of this.edits) {
      const find = Buffer.from(edit.find);
      const replacement = Buffer.from(edit.replace);
      for (let at = content.indexOf(find); at !== -1; at = content.indexOf(find, at + find.length)) {
        if (edit.unlessNext && content.toString('latin1', at + find.length, at + find.length + edit.unlessNext.length) === edit.unlessNext) continue;
        splices.push({ offset: at, length: find.length, replacement });
      }
    }
    splices.sort((a, b) => a.offset - b.offset);
    const size = splices.reduce((n, s) => n + s.replacement.length - s.length, info.size);
    return { splices, size, etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}-p${splices.length}"` };
  }
}

/** index.html without its inline `window.PUBLIC_URL = "/"` (app-config.js sets it instead). */
export function prepareIndexHtml(html: string): string {
  return html.replace(/,?\s*window\.PUBLIC_URL\s*=\s*"\/"\s*;?/g, '');
}

/** index.html for a base path (`/tessera`, or '' at the root): its absolute file paths get the prefix. */
export function indexHtmlFor(preparedHtml: string, basePath: string): string {
  if (!basePath) return preparedHtml;
  return preparedHtml.replace(/\b(href|src)="\/(?!\/)/g, `$1="${basePath}/`);
}

/** The path of a public base URL, without trailing slash ('' at the root). */
export function basePathOf(baseUrl: string): string {
  return new URL(baseUrl).pathname.replace(/\/+$/, '');
}
