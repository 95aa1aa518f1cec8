import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { type Phantom, encodeImageHeader, newUid, phantomSlice } from './dicom.js';

/**
 * The benchmark's synthetic archive, generated once and cached in `.bench-cache/data-…`:
 * - `instances` 512×512 16-bit slices in studies of 4 series × 25 instances (the last study may be short),
 *   patients with one to three studies, varied names (some non-ASCII), dates, modalities;
 * - one study with a single `bigSeries`-slice series;
 * - `topUp` small (16×16) instances in more studies, stored only to grow the index for the QIDO phase.
 */

export interface Entry {
  file: string;
  size: number;
  study: string;
  series: string;
  sop: string;
}

export interface SeriesInfo {
  uid: string;
  modality: string;
  instances: string[];
}

export interface StudyInfo {
  uid: string;
  patientId: string;
  patientName: string;
  accession: string;
  series: SeriesInfo[];
}

export interface Manifest {
  version: number;
  dir: string;
  images: Entry[];
  bigSeries: Entry[];
  topUp: Entry[];
  studies: StudyInfo[];
  topUpStudies: StudyInfo[];
  bigStudy: StudyInfo;
  patients: { id: string; name: string }[];
}

export interface DataSpec {
  instances: number;
  bigSeries: number;
  topUp: number;
  rows: number;
}

const VERSION = 1;
const SERIES_PER_STUDY = 4;
const PER_SERIES = 25;

const FAMILY = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Müller',
  'Schmidt',
  'Schneider',
  'Fischer',
  'Weber',
  'Dubois',
  'Lefèvre',
  'Nguyen',
  'Kowalski',
  'Novák',
  'Søndergaard',
  'Ångström',
  'Rossi',
  'Russo',
  'Ferrari',
  'Tanaka',
  'Suzuki',
  'Watanabe',
  'Cohen',
  'Levy',
];
const GIVEN = [
  'James',
  'Mary',
  'Robert',
  'Patricia',
  'John',
  'Jennifer',
  'Michael',
  'Linda',
  'David',
  'Elizabeth',
  'William',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Chloé',
  'José',
  'François',
  'Zoë',
  'Jürgen',
  'Ana',
  'Ines',
  'Luca',
  'Yuki',
  'Hana',
  'Omar',
  'Fatima',
];
const STUDY_DESCRIPTIONS: Record<string, string[]> = {
  CT: ['CT CHEST WITH CONTRAST', 'CT ABDOMEN PELVIS', 'CT CHEST ABDOMEN PELVIS', 'CT THORAX LOW DOSE', 'CT ANGIO CHEST'],
  MR: ['MR ABDOMEN', 'MR THORACIC SPINE', 'MR LIVER DYNAMIC'],
  PT: ['PET-CT WHOLE BODY', 'PET ONCOLOGY'],
};
const SERIES_DESCRIPTIONS = ['Axial 1.25mm', 'Axial 5mm', 'Arterial phase', 'Venous phase', 'Delayed', 'Scout'];
const SOP_CLASS: Record<string, string> = { CT: '1.2.840.10008.5.1.4.1.1.2', MR: '1.2.840.10008.5.1.4.1.1.4', PT: '1.2.840.10008.5.1.4.1.1.128' };
const REFERRERS = ['House^Gregory', 'Grey^Meredith', 'Shepherd^Derek', 'Kildare^James', 'Quinn^Michaela', 'Ross^Doug'];

/** A deterministic generator (mulberry32), so names and dates are the same on every machine. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function cacheKey(spec: DataSpec): string {
  return `data-v${VERSION}-${spec.instances}-${spec.bigSeries}-${spec.topUp}-${spec.rows}`;
}

/** Loads the cached data set, or generates it (a few seconds per thousand slices). */
export function loadOrGenerate(cacheDir: string, spec: DataSpec, log: (line: string) => void): Manifest {
  const dir = join(cacheDir, cacheKey(spec));
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    if (manifest.version === VERSION) {
      log(`data: cached in ${dir}`);
      return { ...manifest, dir };
    }
  }
  const started = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const random = rng(20261125);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  const date = (from: number, to: number) =>
    `${from + Math.floor(random() * (to - from + 1))}${pad(1 + Math.floor(random() * 12), 2)}${pad(1 + Math.floor(random() * 28), 2)}`;

  const studyCount = Math.ceil(spec.instances / (SERIES_PER_STUDY * PER_SERIES));
  const topUpStudies = Math.ceil(spec.topUp / (SERIES_PER_STUDY * PER_SERIES));
  const patientCount = Math.max(1, Math.ceil((studyCount + topUpStudies + 1) * 0.6));
  const patients = Array.from({ length: patientCount }, (_, i) => ({
    id: `PAT-${pad(100000 + ((i * 7919) % 900000), 6)}`,
    name: `${pick(FAMILY)}^${pick(GIVEN)}${random() < 0.3 ? `^${pick(GIVEN).slice(0, 1)}` : ''}`,
    birthDate: date(1935, 2015),
    sex: random() < 0.5 ? 'F' : 'M',
    phantom: { bodyA: 150 + random() * 60, bodyB: 95 + random() * 40, dx: (random() - 0.5) * 30, dy: (random() - 0.5) * 20 } satisfies Phantom,
  }));

  let fileNo = 0;
  let written = 0;
  const write = (header: Buffer, pixels: Buffer): { file: string; size: number } => {
    const file = `${pad(fileNo++, 7)}.dcm`;
    const fd = openSync(join(dir, file), 'w');
    writeSync(fd, header);
    writeSync(fd, pixels);
    closeSync(fd);
    if (++written % 500 === 0) log(`data: ${written} instances written (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return { file, size: header.length + pixels.length };
  };

  const makeStudy = (instances: number, seriesSizes: number[], rows: number, out: Entry[], forcedModality?: string): StudyInfo => {
    const patient = pick(patients);
    const r = random();
    const modality = forcedModality ?? (r < 0.7 ? 'CT' : r < 0.85 ? 'MR' : 'PT');
    const study: StudyInfo = {
      uid: newUid(),
      patientId: patient.id,
      patientName: patient.name,
      accession: `ACC${pad(Math.floor(random() * 1e8), 8)}`,
      series: [],
    };
    const studyDate = date(2015, 2025);
    const studyTime = `${pad(7 + Math.floor(random() * 12), 2)}${pad(Math.floor(random() * 60), 2)}${pad(Math.floor(random() * 60), 2)}`;
    const description = pick(STUDY_DESCRIPTIONS[modality]!);
    const referrer = pick(REFERRERS);
    let left = instances;
    seriesSizes.forEach((size, s) => {
      const count = Math.min(size, left);
      left -= count;
      if (count <= 0) return;
      const series: SeriesInfo = { uid: newUid(), modality, instances: [] };
      const frameOfReference = newUid();
      for (let i = 0; i < count; i++) {
        const sop = newUid();
        const z = count === 1 ? 0.5 : i / (count - 1);
        const header = encodeImageHeader({
          sopClassUid: SOP_CLASS[modality]!,
          sopInstanceUid: sop,
          studyInstanceUid: study.uid,
          seriesInstanceUid: series.uid,
          frameOfReferenceUid: frameOfReference,
          studyDate,
          studyTime,
          accessionNumber: study.accession,
          modality,
          referringPhysicianName: referrer,
          studyDescription: description,
          seriesDescription: SERIES_DESCRIPTIONS[s % SERIES_DESCRIPTIONS.length]!,
          patientName: patient.name,
          patientId: patient.id,
          patientBirthDate: patient.birthDate,
          patientSex: patient.sex,
          studyId: pad(Math.floor(random() * 1e5), 5),
          seriesNumber: s + 1,
          instanceNumber: i + 1,
          sliceLocation: -z * count * 1.25,
          rows,
          columns: rows,
        });
        const { file, size } = write(header, phantomSlice(rows, rows, z, patient.phantom));
        out.push({ file, size, study: study.uid, series: series.uid, sop });
        series.instances.push(sop);
      }
      study.series.push(series);
    });
    return study;
  };

  const images: Entry[] = [];
  const studies: StudyInfo[] = [];
  for (let s = 0; s < studyCount; s++) {
    studies.push(makeStudy(spec.instances - s * SERIES_PER_STUDY * PER_SERIES, Array(SERIES_PER_STUDY).fill(PER_SERIES), spec.rows, images));
  }
  const bigSeries: Entry[] = [];
  const bigStudy = makeStudy(spec.bigSeries, [spec.bigSeries], spec.rows, bigSeries, 'CT');
  const topUp: Entry[] = [];
  const topUpStudyList: StudyInfo[] = [];
  for (let s = 0; s < topUpStudies; s++) {
    topUpStudyList.push(makeStudy(spec.topUp - s * SERIES_PER_STUDY * PER_SERIES, Array(SERIES_PER_STUDY).fill(PER_SERIES), 16, topUp));
  }
  const manifest: Manifest = {
    version: VERSION,
    dir,
    images,
    bigSeries,
    topUp,
    studies,
    topUpStudies: topUpStudyList,
    bigStudy,
    patients: patients.map(({ id, name }) => ({ id, name })),
  };
  writeFileSync(`${manifestPath}.tmp`, JSON.stringify(manifest));
  renameSync(`${manifestPath}.tmp`, manifestPath);
  log(`data: generated ${written} instances in ${((performance.now() - started) / 1000).toFixed(1)} s into ${dir}`);
  return manifest;
}
