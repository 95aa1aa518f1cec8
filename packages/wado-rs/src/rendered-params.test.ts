import t from 'tap';
import { rejects } from '@tessera/imaging/testing';
import { parseRenderedParams } from './rendered-params.js';

t.test('WADO-RS rendered parameters (WADORS-8)', async (t) => {
  t.same(parseRenderedParams({}, 'rendered'), { annotation: [], warnings: [] });
  t.match(parseRenderedParams({ window: '40,400,linear' }, 'rendered'), { window: { center: 40, width: 400, function: 'linear' } });
  t.match(parseRenderedParams(new URLSearchParams('window=-600,1500.5,sigmoid&quality=75'), 'rendered'), {
    window: { center: -600, width: 1500.5, function: 'sigmoid' },
    quality: 75,
  });
  t.match(parseRenderedParams({ viewport: '512,512,10,20,-100,50' }, 'rendered'), { viewport: { vw: 512, vh: 512, sx: 10, sy: 20, sw: -100, sh: 50 } });
  t.match(parseRenderedParams({ viewport: '64,32,,,,' }, 'rendered'), { viewport: { vw: 64, vh: 32 } });
  for (const window of ['40,400', '40', '40,400,', 'a,400,linear', '40,400,cubic', '40,0,linear', '40,0.5,linear', '40,0,sigmoid', '']) {
    rejects(t, () => parseRenderedParams({ window }, 'rendered'), 'window', `window=${window}`);
  }
  for (const quality of ['0', '101', 'high', '', '50.5', '-1']) rejects(t, () => parseRenderedParams({ quality }, 'rendered'), 'quality', `quality=${quality}`);
  for (const viewport of ['64', '64,64,0', '0,64', '64,x', '64,64,0,0,0,10', '64,64,-1,0,10,10', '64,64,0,0,1.5,10']) {
    rejects(t, () => parseRenderedParams({ viewport }, 'rendered'), 'viewport', `viewport=${viewport}`);
  }
  rejects(t, () => parseRenderedParams({ quality: ['50', '60'] }, 'rendered'), 'quality', 'repeated');
  rejects(t, () => parseRenderedParams({ annotation: '' }, 'rendered'), 'annotation', 'empty annotation');
  rejects(t, () => parseRenderedParams({ annotation: 'patient,' }, 'rendered'), 'annotation', 'empty keyword');
  rejects(t, () => parseRenderedParams({ annotation: '%%' }, 'rendered'), 'annotation', 'non-keyword');
  const annotated = parseRenderedParams({ annotation: 'patient,foo' }, 'rendered');
  t.same(annotated.annotation, ['patient']);
  t.ok(
    annotated.warnings.some((w) => w.includes('foo')),
    'unknown keyword → warning',
  );
  t.match(parseRenderedParams({ iccprofile: 'srgb' }, 'rendered'), { iccprofile: 'srgb' });
  rejects(t, () => parseRenderedParams({ iccprofile: 'adobergb' }, 'rendered'), 'iccprofile', 'unsupported profile');
  rejects(t, () => parseRenderedParams({ iccprofile: 'maybe' }, 'rendered'), 'iccprofile', 'unknown profile');
});

t.test('thumbnail parameters (WADORS-9)', async (t) => {
  t.match(parseRenderedParams({ viewport: '64,64' }, 'thumbnail'), { viewport: { vw: 64, vh: 64 } });
  t.same(parseRenderedParams({ window: '40,400' }, 'thumbnail').viewport, undefined, 'other parameters are ignored');
  rejects(t, () => parseRenderedParams({ viewport: '64,64,0,0,10,10' }, 'thumbnail'), 'viewport', 'region on a thumbnail');
  rejects(t, () => parseRenderedParams({ viewport: '64' }, 'thumbnail'), 'viewport', 'one value');
});
