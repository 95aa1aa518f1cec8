export { type Audit, type AuditSettings, type AuthenticationOutcome, installAudit } from './install-audit.js';
export { auditRoutes } from './audit-routes.js';
export { AuditRecorder, type AuditRecorderOptions, type AuditSink } from './audit-recorder.js';
export { classifyRequest, outcomeOfStatus } from './classify.js';
export { auditDetail, noteAuditDetail } from './audit-detail.js';
