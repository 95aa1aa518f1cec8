import { randomUUID } from 'node:crypto';
import { Tag } from '@tessera/dicom';
import { wadoUriUrl } from '@tessera/http';
import { type StudyView, instanceUids, number, text } from './study-view.js';

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
    studies: [
      {
        studyInstanceUid: study.studyInstanceUid,
        patientName: text(attrs, Tag.PatientName) ?? '',
        patientId: text(attrs, Tag.PatientID) ?? '',
        studyDate: text(attrs, Tag.StudyDate) ?? '',
        studyTime: text(attrs, Tag.StudyTime) ?? '',
        studyDescription: text(attrs, Tag.StudyDescription) ?? '',
        accessionNumber: text(attrs, Tag.AccessionNumber) ?? '',
        modalities: study.modalitiesInStudy.join('\\'),
        seriesList: view.series.map((series) => ({
          seriesInstanceUid: series.uid,
          seriesDescription: text(series.attributes, Tag.SeriesDescription) ?? '',
          seriesNumber: number(series.attributes, Tag.SeriesNumber) ?? null,
          modality: text(series.attributes, Tag.Modality) ?? '',
          instances: series.instances.map((instance) => ({
            sopInstanceUid: instance.sopInstanceUid,
            instanceNumber: instance.instanceNumber,
            rows: instance.rows ?? 0,
            columns: instance.columns ?? 0,
            numberOfFrames: instance.numberOfFrames ?? 1,
            url: wadoUriUrl(dicomwebBase, instanceUids(study.studyInstanceUid, series.uid, instance.sopInstanceUid), { legacySpelling: true }),
          })),
        })),
      },
    ],
  };
}
