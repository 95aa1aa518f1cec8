export {
  findDicomFiles,
  classifyFile,
  mediaStorageSopClass,
  MEDIA_STORAGE_DIRECTORY,
  type DicomFile,
  type SkippedFile,
  type FoundFiles,
} from './find-files.js';
export { sendBatch, multipartBody, parseRetryAfter, DEFAULT_RETRY, type StowTarget, type RetryPolicy, type BatchOutcome } from './stow-client.js';
export { parseStoreResponse, type StoreAnswer, type InstanceAnswer } from './store-response.js';
export { findStoredInstances } from './stored-instances.js';
export { uploadFiles, exitCode, type UploadOptions, type UploadEvents, type UploadReport, type StudyReport, type FileResult } from './upload-files.js';
export { createProgressReporter, formatSummary } from './progress.js';
