import t from 'tap';
import { convertSharedFiles, walk } from '../testing/converted-files.js';
import { VRS } from '../vr.js';

/** The form of each attribute and its values (digest JSON-3, JSON-4, JSON-5, JSON-7, JSON-8, JSON-11, JSON-13), on every shared file. */

const { files: converted, get, everyAttribute } = await convertSharedFiles();

t.test('JSON-3: vr always present; at most one of Value, BulkDataURI, InlineBinary; Value an array', async (t) => {
  everyAttribute(t, 'JSON-3: vr present', ({ attr }) => (typeof attr.vr === 'string' ? undefined : 'no vr'));
  everyAttribute(t, 'JSON-3: one value form at most', ({ attr }) => {
    const forms = ['Value', 'BulkDataURI', 'InlineBinary'].filter((form) => form in attr);
    return forms.length > 1 ? forms.join('+') : undefined;
  });
  everyAttribute(t, 'JSON-3: Value is an array', ({ attr }) => ('Value' in attr && !Array.isArray(attr.Value) ? typeof attr.Value : undefined));
  everyAttribute(t, 'JSON-3: no unknown members', ({ attr }) => {
    const extra = Object.keys(attr).filter((member) => !['vr', 'Value', 'BulkDataURI', 'InlineBinary'].includes(member));
    return extra.length ? extra.join(',') : undefined;
  });
});

t.test('JSON-4: empty values', async (t) => {
  everyAttribute(t, 'JSON-4: no Value:[""] and no "" value', ({ attr }) => (attr.Value?.some((v) => v === '') ? JSON.stringify(attr.Value) : undefined));
  everyAttribute(t, 'JSON-4: no empty or all-null Value (zero length → only vr)', ({ attr }) => {
    if (!attr.Value) return undefined;
    return attr.Value.length === 0 || attr.Value.every((v) => v === null) ? JSON.stringify(attr.Value) : undefined;
  });
  const hostile = get('bad/hostile-strings-xss-sql.dcm').metadata;
  t.same(hostile['00080021'], { vr: 'DA' }, 'JSON-4: empty SeriesDate → {"vr":"DA"}');
  t.same(hostile['00080090'], { vr: 'PN' }, 'JSON-4: empty ReferringPhysicianName → {"vr":"PN"}');
});

const NUMERIC_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

t.test('JSON-5: value types by VR', async (t) => {
  everyAttribute(t, 'JSON-5: IS/DS numbers where numeric', ({ attr }) => {
    if (attr.vr !== 'IS' && attr.vr !== 'DS') return undefined;
    const bad = attr.Value?.filter((v) => v !== null && typeof v !== 'number' && !(typeof v === 'string' && !NUMERIC_TEXT.test(v.trim())));
    return bad?.length ? JSON.stringify(bad) : undefined;
  });
  everyAttribute(t, 'JSON-5: no NaN/Infinity numbers', ({ attr }) =>
    attr.Value?.some((v) => typeof v === 'number' && !Number.isFinite(v)) ? 'non-finite' : undefined,
  );
  everyAttribute(t, 'JSON-5: FL FD SL SS UL US are numbers', ({ attr }) => {
    if (!['FL', 'FD', 'SL', 'SS', 'UL', 'US'].includes(attr.vr)) return undefined;
    return attr.Value?.some((v) => typeof v !== 'number' && !(typeof v === 'string' && /^-?(NaN|Infinity)$/.test(v))) ? JSON.stringify(attr.Value) : undefined;
  });
  everyAttribute(t, 'JSON-5: string VRs are strings', ({ attr }) => {
    if (!['AE', 'AS', 'CS', 'DA', 'DT', 'LO', 'LT', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT', 'AT'].includes(attr.vr)) return undefined;
    return attr.Value?.some((v) => v !== null && typeof v !== 'string') ? JSON.stringify(attr.Value) : undefined;
  });
  const tokens = converted.filter((file) => /[:,[]-?(NaN|Infinity)\b/.test(file.written)).map((file) => file.path);
  t.same(tokens, [], 'JSON-5: no NaN/Infinity tokens in the written JSON');

  const mr = get('transfer-syntax/small/mr-small_1.2.840.10008.1.2.1_explicit-le.dcm').metadata;
  t.same(mr['00280030'], { vr: 'DS', Value: [0.3125, 0.3125] }, 'JSON-5: PixelSpacing DS → numbers');
  t.same(mr['00200013'], { vr: 'IS', Value: [1] }, 'JSON-5: InstanceNumber IS → number');
  t.same(get('edge/vr/bad-vr-rtdose.dcm').metadata['00280008'], { vr: 'IS', Value: ['1A'] }, 'JSON-5: IS "1A" is not a number: kept as text');
});

t.test('JSON-13: concrete, uppercase VRs', async (t) => {
  const known = new Set<string>(VRS);
  everyAttribute(t, 'JSON-13: vr is one of the PS3.5 VRs', ({ attr }) => (known.has(attr.vr) ? undefined : JSON.stringify(attr.vr)));
  everyAttribute(t, 'JSON-13: no space, lowercase or "or" in vr', ({ attr }) => (/[ a-z]|or/.test(attr.vr) ? attr.vr : undefined));
  everyAttribute(t, 'JSON-13: LUT Descriptor is US or SS', ({ key, attr }) => (key === '00283002' && !['US', 'SS'].includes(attr.vr) ? attr.vr : undefined));
  // Implicit VR: ambiguous `US or SS` elements resolved by PixelRepresentation.
  const implicit = get('transfer-syntax/small/mr-small_1.2.840.10008.1.2_implicit-le.dcm').metadata;
  t.same(implicit['00280106'], { vr: 'SS', Value: [0] }, 'JSON-13: SmallestImagePixelValue is SS when PixelRepresentation = 1');
  // UN elements the dictionary knows are written with the dictionary VR.
  const un = get('edge/vr/explicit-vr-UN-everywhere.dcm').metadata;
  t.match(un['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'PANCREAS_0001' }] }, 'JSON-13: a PN stored as UN comes back as PN');
  t.match(un['00280010'], { vr: 'US' }, 'JSON-13: Rows stored as UN comes back as US');
});

t.test('JSON-7: AT values are uppercase 8-hex strings', async (t) => {
  everyAttribute(t, 'JSON-7: AT syntax', ({ attr }) =>
    attr.vr === 'AT' && attr.Value?.some((v) => typeof v !== 'string' || !/^[0-9A-F]{8}$/.test(v)) ? JSON.stringify(attr.Value) : undefined,
  );
  t.same(get('multiframe/us-multiframe-jpeg-34fr.dcm').metadata['00280009'], { vr: 'AT', Value: ['00181063'] }, 'JSON-7: FrameIncrementPointer = FrameTime');
  t.same(get('multiframe/rtdose-15fr.dcm').metadata['00280009'], { vr: 'AT', Value: ['3004000C'] }, 'JSON-7: implicit VR AT (GridFrameOffsetVector)');
  t.same(get('edge/pixel/j2k-embedded-sequence-delimiter.dcm').metadata['00280009'], { vr: 'AT', Value: ['00540010', '00540020'] }, 'JSON-7: two AT values');
});

t.test('JSON-8: sequence items follow the same rules', async (t) => {
  everyAttribute(t, 'JSON-8: SQ Value holds objects', ({ attr }) =>
    attr.vr === 'SQ' && attr.Value?.some((v) => v === null || typeof v !== 'object' || Array.isArray(v)) ? 'non-object item' : undefined,
  );
  const sr = get('non-image/sr/comprehensive-sr-nested.dcm').metadata;
  let depth = 0;
  for (const visit of walk(sr)) depth = Math.max(depth, visit.path.split('/').length);
  t.ok(depth >= 7, `JSON-8: the nested SR keeps its depth (${(depth - 1) / 2} levels)`);
  everyAttribute(t, 'JSON-4: an empty sequence is {"vr":"SQ"}', ({ attr }) =>
    attr.vr === 'SQ' && 'Value' in attr && attr.Value!.length === 0 ? 'Value: []' : undefined,
  );
});

t.test('JSON-11: padding stripped', async (t) => {
  everyAttribute(t, 'JSON-11: no trailing space or NUL', ({ attr }) => {
    const strings = (attr.Value ?? []).flatMap((v) =>
      typeof v === 'string' ? [v] : v !== null && typeof v === 'object' && attr.vr === 'PN' ? Object.values(v) : [],
    );
    return strings.some((s) => typeof s === 'string' && /[ \0]$/.test(s)) ? JSON.stringify(strings) : undefined;
  });
  const mr = get('transfer-syntax/small/mr-small_1.2.840.10008.1.2.1_explicit-le.dcm');
  const sopClass = mr.bytes.indexOf(Buffer.from('1.2.840.10008.5.1.4.1.1.4\0', 'latin1'));
  t.ok(sopClass > 0, 'JSON-11: the file stores the MR SOP Class UID padded with NUL');
  t.same(mr.metadata['00080016'], { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.4'] }, 'JSON-11: and JSON carries it without the NUL');
});
