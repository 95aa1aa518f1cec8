import { randomUUID } from 'node:crypto';
import { type StudyView, number, text, wadoUriUrl } from './study-view.js';

/**
 * OHIF's legacy standalone format (OHIF v1/v2 `?url=` JSON, as DICOMcloud serves it at
 * `/ohif/study/{s}/series`): the same keys and nesting (camelCase, `seriesList`), with real Rows
 * (DICOMcloud always wrote 1) and the fields a legacy client may also read. Instance URLs use the
 * `dicomweb:` scheme in place of http/https, as those clients expect, and follow the public base URL.
 */
export interface LegacyStudyDocument {
  transactionId: string;
  studies: {
    studyInstanceUid: string;
    patientName: string;
    patientId: string;
    studyDate: string;
    studyTime: string;
    studyDescription: string;
    accessionNumber: string;
    modalities: string;
    seriesList: {
      seriesInstanceUid: string;
      seriesDescription: string;
      seriesNumber: number | null;
      modality: string;
      instances: {
        sopInstanceUid: string;
        instanceNumber: number | null;
        rows: number;
        columns: number;
        numberOfFrames: number;
        url: string;
      }[];
    }[];
  }[];
}

export function toLegacyStudy(view: StudyView, baseUrl: string): LegacyStudyDocument {
  const { study } = view;
  const attrs = study.attributes.dataset();
  const dicomwebBase = baseUrl.replace(/^https?:/, 'dicomweb:');
  return {
    transactionId: randomUUID(),
    studies: [{
      studyInstanceUid: study.studyInstanceUid,
      patientName: text(attrs, '00100010') ?? '',
      patientId: text(attrs, '00100020') ?? '',
      studyDate: text(attrs, '00080020') ?? '',
      studyTime: text(attrs, '00080030') ?? '',
      studyDescription: text(attrs, '00081030') ?? '',
      accessionNumber: text(attrs, '00080050') ?? '',
      modalities: study.modalitiesInStudy.join('\\'),
      seriesList: view.series.map((series) => ({
        seriesInstanceUid: series.uid,
        seriesDescription: text(series.attributes, '0008103E') ?? '',
        seriesNumber: number(series.attributes, '00200011') ?? null,
        modality: text(series.attributes, '00080060') ?? '',
        instances: series.instances.map((instance) => ({
          sopInstanceUid: instance.sopInstanceUid,
          instanceNumber: instance.instanceNumber,
          rows: instance.rows ?? 0,
          columns: instance.columns ?? 0,
          numberOfFrames: instance.numberOfFrames ?? 1,
          url: wadoUriUrl(dicomwebBase, study.studyInstanceUid, series.uid, instance.sopInstanceUid, { legacySpelling: true }),
        })),
      })),
    }],
  };
}
