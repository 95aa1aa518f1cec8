/**
 * Where each service is mounted, below the server's base URL (PUBLIC_URL or the request's origin).
 * The one definition the server registers its plugins at and the OHIF adapter builds its links from.
 */
export const MountPoint = {
  /** STOW-RS, QIDO-RS, WADO-RS and the capabilities document (PS3.18 §8, §10). */
  dicomweb: '/dicomweb',
  /** WADO-URI (PS3.18 §9). */
  wadoUri: '/wadouri',
  /** The second WADO-URI path, the one older clients and Orthanc use. */
  wadoUriAlias: '/wado',
  /** The OHIF adapter's legacy and DICOM JSON study documents. */
  ohif: '/ohif',
} as const;
