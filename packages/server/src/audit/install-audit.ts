import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type AuthFailureReason, type Principal, anonymous } from '@tessera/access';
import { auditedStudies } from '@tessera/http';
import type { AuditEvent, Index } from '@tessera/index';
import { AuditRecorder, type AuditRecorderOptions } from './audit-recorder.js';
import { auditDetail } from './audit-detail.js';
import { classifyRequest, outcomeOfStatus } from './classify.js';

export interface AuditSettings {
  enabled: boolean;
  /** Events older than this many days are deleted daily (0: kept forever). */
  retentionDays: number;
}

/** What access control reports about one credential (the core's `onAuthentication` callback). */
export interface AuthenticationOutcome {
  ok: boolean;
  reason?: AuthFailureReason;
  principal?: Principal;
}

export interface Audit {
  /** Records a User Authentication event; wire it to access control's `onAuthentication`. */
  recordAuthentication(request: FastifyRequest, outcome: AuthenticationOutcome): void;
  /** Writes the buffered events now (tests, and the benchmark's checks). */
  flush(): Promise<void>;
}

const DAY_MS = 24 * 3600_000;
/** A principal's successful authentication from one address is recorded at most once in this time. */
const AUTH_SUCCESS_INTERVAL_MS = 3600_000;
const AUTH_SUCCESS_REMEMBERED = 10_000;

/**
 * Installs the audit trail: an `onResponse` hook that records every request to patient data (after
 * the answer is sent, so the client never waits for it), the recorder that writes them in batches,
 * and the retention job (at start, then daily). With `enabled` false nothing is recorded (for
 * benchmarks that measure the recorder's own cost; docs/security.md).
 */
export function installAudit(app: FastifyInstance, index: Pick<Index, 'audit'>, settings: AuditSettings, options: AuditRecorderOptions = {}): Audit {
  if (!settings.enabled) return { recordAuthentication: () => {}, flush: async () => {} };
  const recorder = new AuditRecorder(index.audit, app.log, options);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined) return;
    const classification = classifyRequest({
      method: request.method,
      route,
      params: (request.params ?? {}) as Record<string, unknown>,
      query: (request.query ?? {}) as Record<string, unknown>,
    });
    if (!classification) return;
    const noted = auditedStudies(request);
    recorder.record({
      ...requestContext(request),
      type: classification.type,
      action: classification.action,
      outcome: outcomeOfStatus(reply.statusCode),
      httpStatus: reply.statusCode,
      route: `${request.method} ${route}`,
      studyUids: noted?.length ? noted : classification.studyUids,
      detail: { ...classification.detail, ...auditDetail(request) },
    });
  });

  const successes = new Map<string, number>();
  const recordAuthentication = (request: FastifyRequest, outcome: AuthenticationOutcome) => {
    const now = Date.now();
    if (outcome.ok && outcome.principal) {
      const key = `${outcome.principal.kind}\n${outcome.principal.id}\n${request.ip}`;
      const last = successes.get(key);
      if (last !== undefined && now - last < AUTH_SUCCESS_INTERVAL_MS) return;
      if (successes.size >= AUTH_SUCCESS_REMEMBERED) successes.clear();
      successes.set(key, now);
    }
    const context = requestContext(request, outcome.principal);
    const unavailable = outcome.reason === 'unavailable';
    recorder.record({
      ...context,
      occurredAt: new Date(now),
      type: 'user-authentication',
      action: 'E',
      outcome: outcome.ok ? 0 : unavailable ? 8 : 4,
      httpStatus: outcome.ok ? undefined : unavailable ? 503 : 401,
      route: request.routeOptions.url === undefined ? undefined : `${request.method} ${request.routeOptions.url}`,
      studyUids: [],
      detail: outcome.ok ? { credential: context.actor.kind } : { reason: outcome.reason ?? 'unknown' },
    });
  };

  let retentionTimer: NodeJS.Timeout | undefined;
  let retention: Promise<void> | undefined;
  const applyRetention = () => {
    if (settings.retentionDays === 0) return undefined;
    retention ??= index.audit
      .deleteOlderThan(new Date(Date.now() - settings.retentionDays * DAY_MS))
      .then((count) => {
        if (count) app.log.info({ auditEventsDeleted: count, retentionDays: settings.retentionDays }, 'deleted audit events past their retention');
      })
      .catch((error: unknown) => app.log.warn({ err: error }, 'could not delete expired audit events; retrying tomorrow'))
      .finally(() => {
        retention = undefined;
      });
    return retention;
  };
  app.addHook('onReady', async () => {
    recorder.start();
    await applyRetention();
    retentionTimer = setInterval(() => void applyRetention(), DAY_MS).unref();
  });
  app.addHook('onClose', async () => {
    clearInterval(retentionTimer);
    await retention;
    await recorder.close();
  });
  return { recordAuthentication, flush: () => recorder.flush() };
}

/** Who, from where, when, which request: the part of an event that comes from the request. */
function requestContext(request: FastifyRequest, given?: Principal): Pick<AuditEvent, 'occurredAt' | 'actor' | 'clientAddress' | 'requestId'> {
  // A request that access control did not reach (e.g. a 404 before routing) has no principal: anonymous.
  const principal = given ?? request.principal ?? anonymous();
  return {
    occurredAt: new Date(),
    actor: { kind: principal.kind, id: principal.id, ...(principal.name === undefined ? {} : { name: principal.name }) },
    clientAddress: request.ip,
    requestId: String(request.id),
  };
}
