import t from 'tap';
import { rejects } from '@tessera/imaging/testing';
import { parseWadoUriRenderParams } from './wado-uri-render-params.js';

t.test('WADO-URI rendered parameters (WADOURI-5)', async (t) => {
  t.match(parseWadoUriRenderParams({ windowCenter: '40', windowWidth: '400', rows: '256', imageQuality: '80', region: '0,0.25,0.5,1' }), {
    window: { center: 40, width: 400, function: 'linear' },
    rows: 256,
    quality: 80,
    region: { xmin: 0, ymin: 0.25, xmax: 0.5, ymax: 1 },
  });
  t.match(parseWadoUriRenderParams({ frameNumber: '3' }, { numberOfFrames: 10 }), { frameNumber: 3 });
  rejects(t, () => parseWadoUriRenderParams({ windowCenter: '40' }), 'windowCenter', 'windowCenter alone');
  rejects(t, () => parseWadoUriRenderParams({ windowWidth: '40' }), 'windowWidth', 'windowWidth alone');
  rejects(t, () => parseWadoUriRenderParams({ windowCenter: 'x', windowWidth: '40' }), 'windowCenter', 'not decimal');
  rejects(
    t,
    () => parseWadoUriRenderParams({ windowCenter: '40', windowWidth: '400', contentType: 'application/dicom' }),
    'windowCenter',
    'windowing with application/dicom',
  );
  rejects(
    t,
    () => parseWadoUriRenderParams({ windowCenter: '40', windowWidth: '400', presentationSeriesUID: '1.2', presentationUID: '1.3' }),
    'windowCenter',
    'windowing with a presentation state',
  );
  rejects(t, () => parseWadoUriRenderParams({ presentationUID: '1.3' }), 'presentationUID', 'presentationUID alone');
  rejects(
    t,
    () => parseWadoUriRenderParams({ frameNumber: '2', presentationSeriesUID: '1.2', presentationUID: '1.3' }, { numberOfFrames: 4 }),
    'frameNumber',
    'frameNumber with PS',
  );
  for (const region of ['0.5,0,0.2,1', '0,0.5,1,0.5', '0,0,1', '0,0,1,1.5', '-0.1,0,1,1', 'a,0,1,1']) {
    rejects(t, () => parseWadoUriRenderParams({ region }), 'region', `region=${region}`);
  }
  rejects(t, () => parseWadoUriRenderParams({ frameNumber: '2' }, { numberOfFrames: 1 }), 'frameNumber', 'single-frame');
  rejects(t, () => parseWadoUriRenderParams({ frameNumber: '11' }, { numberOfFrames: 10 }), 'frameNumber', 'beyond the last frame');
  rejects(t, () => parseWadoUriRenderParams({ frameNumber: '0' }), 'frameNumber', 'not positive');
  rejects(t, () => parseWadoUriRenderParams({ frameNumber: ['1', '2'] }, { numberOfFrames: 4 }), 'frameNumber', 'two values');
  for (const rows of ['0', '-5', '1.5', 'big']) rejects(t, () => parseWadoUriRenderParams({ rows }), 'rows', `rows=${rows}`);
  rejects(t, () => parseWadoUriRenderParams({ columns: '0' }), 'columns', 'columns=0');
  rejects(t, () => parseWadoUriRenderParams({ imageQuality: '101' }), 'imageQuality', 'imageQuality=101');
  rejects(t, () => parseWadoUriRenderParams({ annotation: '' }), 'annotation', 'empty annotation');
});
