/**
 * What `GET /dicomweb` answers: the root the start-up log names, a short guide for a person or a
 * client that opens it (which services are here, where, and where the capabilities document is).
 * The machine-readable description of every resource is the capabilities document (PS3.18 §8.9,
 * `OPTIONS` on the same URL); this one only points at things.
 */
export interface ServiceRootDocument {
  name: string;
  description: string;
  serviceRoot: string;
  services: { name: string; standard: string; method: string; href: string }[];
  capabilities: { method: 'OPTIONS'; href: string; mediaType: string; standard: string };
  viewer: { study: string; studyList: string };
  health: { live: string; ready: string };
  documentation: Record<string, string>;
}

export function serviceRoot(baseUrl: string, serviceUrl: string): ServiceRootDocument {
  return {
    name: 'Tessera',
    description: 'DICOMweb server: STOW-RS, QIDO-RS, WADO-RS and WADO-URI (DICOM PS3.18)',
    serviceRoot: serviceUrl,
    services: [
      { name: 'STOW-RS (store instances)', standard: 'PS3.18 §10.5', method: 'POST', href: `${serviceUrl}/studies` },
      { name: 'QIDO-RS (search for studies)', standard: 'PS3.18 §10.6', method: 'GET', href: `${serviceUrl}/studies` },
      { name: 'QIDO-RS (search for series)', standard: 'PS3.18 §10.6', method: 'GET', href: `${serviceUrl}/series` },
      { name: 'QIDO-RS (search for instances)', standard: 'PS3.18 §10.6', method: 'GET', href: `${serviceUrl}/instances` },
      {
        name: 'WADO-RS (retrieve a study, its metadata, frames, rendered images)',
        standard: 'PS3.18 §10.4',
        method: 'GET',
        href: `${serviceUrl}/studies/{StudyInstanceUID}`,
      },
      { name: 'WADO-URI', standard: 'PS3.18 §9', method: 'GET', href: `${baseUrl}/wadouri?requestType=WADO&studyUID={s}&seriesUID={se}&objectUID={i}` },
    ],
    capabilities: { method: 'OPTIONS', href: serviceUrl, mediaType: 'application/json', standard: 'PS3.18 §8.9' },
    viewer: { study: `${baseUrl}/viewer?StudyInstanceUIDs={StudyInstanceUID}`, studyList: `${baseUrl}/` },
    health: { live: `${baseUrl}/healthz`, ready: `${baseUrl}/readyz` },
    documentation: {
      conformance: 'docs/conformance.md (what is supported, per section of PS3.18)',
      errors: 'docs/errors.md (problem codes and STOW-RS reason codes)',
      ohif: 'docs/ohif.md (the viewer and OHIF data sources)',
      configuration: 'README.md (section Configuration)',
    },
  };
}
