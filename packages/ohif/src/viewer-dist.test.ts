import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { PatchedFile, basePathOf, editsFor, indexHtmlFor, prepareIndexHtml } from './viewer-dist.js';

const collect = async (file: PatchedFile) => {
  const chunks: Buffer[] = [];
  for await (const chunk of await file.stream()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

t.test('PatchedFile streams the file with every edit spliced in, and the right size', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-dist-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // Edits at the very start, across the 64 KiB read chunks, and at the very end.
  const filler = 'x'.repeat(70_000);
  const original = `__webpack_require__.p = "/";${filler}__webpack_require__.p = "/";é${filler}__webpack_require__.p = "/";`;
  await writeFile(join(dir, 'a.js'), original);
  const js = new PatchedFile(join(dir, 'a.js'), editsFor('a.js'));
  const body = await collect(js);
  const expected = original.replaceAll('__webpack_require__.p = "/";', editsFor('a.js')[0]!.replace);
  t.equal(body, expected);
  t.equal((await js.describe()).size, Buffer.byteLength(expected), 'size counts bytes, not characters');
  t.equal(await collect(js), expected, 'a second stream is the same');

  await writeFile(join(dir, 'a.css'), '@font-face{src:url(/f.woff2)}a{background:url("/i.png")}b{background:url(//cdn.example/x.png)}');
  t.equal(
    await collect(new PatchedFile(join(dir, 'a.css'), editsFor('a.css'))),
    '@font-face{src:url(f.woff2)}a{background:url("i.png")}b{background:url(//cdn.example/x.png)}',
    'root paths relative, scheme-relative URLs kept',
  );

  await writeFile(join(dir, 'plain.js'), 'console.log(1)');
  const plain = new PatchedFile(join(dir, 'plain.js'), editsFor('plain.js'));
  t.equal(await collect(plain), 'console.log(1)', 'a file without the text is served as it is');
  const { etag } = await plain.describe();
  t.match(etag, /^"[0-9a-f]+-[0-9a-f]+-p0"$/);

  await t.rejects(new PatchedFile(join(dir, 'missing.js'), editsFor('missing.js')).describe(), 'a missing file fails');
});

t.test('index.html: no inline PUBLIC_URL, the prefix on root paths', async (t) => {
  const html =
    '<script>console.time("scriptToView"),window.PUBLIC_URL="/"</script><link href="/a.css"><script src="/app-config.js"></script>' +
    '<script>function f(n){return import(n)}window.PUBLIC_URL="/"</script><script defer src="/app.bundle.1.js"></script><a href="//cdn.example/x">';
  const prepared = prepareIndexHtml(html);
  t.notMatch(prepared, 'PUBLIC_URL');
  t.match(prepared, '<script>console.time("scriptToView")</script>');
  t.match(prepared, '<script>function f(n){return import(n)}</script>');
  t.equal(indexHtmlFor(prepared, ''), prepared, 'unchanged at the root');
  const prefixed = indexHtmlFor(prepared, '/tessera');
  t.match(prefixed, 'href="/tessera/a.css"');
  t.match(prefixed, 'src="/tessera/app-config.js"');
  t.match(prefixed, 'src="/tessera/app.bundle.1.js"');
  t.match(prefixed, 'href="//cdn.example/x"', 'scheme-relative URLs kept');
});

t.test('basePathOf', async (t) => {
  t.equal(basePathOf('http://h:8080'), '');
  t.equal(basePathOf('https://h/tessera'), '/tessera');
  t.equal(basePathOf('https://h/tessera/'), '/tessera');
  t.equal(basePathOf('https://h/a/b'), '/a/b');
});
