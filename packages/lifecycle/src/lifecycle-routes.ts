import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem, noteAuditedStudies, uidParam } from '@tessera/http';
import type { DeletionTarget } from '@tessera/index';
import { type DeleteDependencies, deleteResource } from './delete-resources.js';

export type LifecycleRoutesOptions = Omit<DeleteDependencies, 'log'>;

type Params = { study?: string; series?: string; instance?: string };

/**
 * `DELETE /studies/{study}`, `…/series/{series}`, `…/instances/{instance}`: not part of PS3.18's
 * core transactions; the shape of the Microsoft DICOM service's and dcm4chee's delete (docs/conformance.md).
 * 204 when removed, 404 when not stored, 400 for a malformed UID. Needs the `delete` scope
 * (packages/server/src/route-access.ts).
 */
export const lifecycleRoutes: FastifyPluginAsync<LifecycleRoutesOptions> = async (app: FastifyInstance, options) => {
  const handler = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const target = targetOf(request.params);
    const outcome = await deleteResource({ ...options, log: request.log }, target).catch((error: unknown) => {
      // No blob was removed: if the commit did happen, its blobs are orphans that `tessera gc` collects.
      if ((error as { code?: string }).code !== 'INDEX_OUTCOME_UNKNOWN') throw error;
      request.log.error({ err: error }, 'index commit of a deletion unconfirmed');
      throw new HttpProblem(
        503,
        'INDEX_OUTCOME_UNKNOWN',
        'the index database stopped answering while the deletion was being committed, so whether it took effect is unknown; send the DELETE again (404 then means it did)',
        { 'retry-after': '5' },
      );
    });
    if (!outcome) throw new HttpProblem(404, 'NOT_FOUND', `${describe(target)} is not stored`);
    noteAuditedStudies(request, [target.studyInstanceUid]);
    request.log.info(
      {
        delete: {
          instances: outcome.sopInstanceUids.length,
          series: outcome.seriesInstanceUids.length,
          studyRemoved: outcome.studyRemoved,
          blobsLeft: outcome.blobsLeft.length,
        },
      },
      'deleted',
    );
    return reply.code(204).send();
  };
  app.delete('/studies/:study', handler);
  app.delete('/studies/:study/series/:series', handler);
  app.delete('/studies/:study/series/:series/instances/:instance', handler);
};

function targetOf(params: Params): DeletionTarget {
  return {
    studyInstanceUid: uidParam(params.study, 'StudyInstanceUID'),
    ...(params.series !== undefined ? { seriesInstanceUid: uidParam(params.series, 'SeriesInstanceUID') } : {}),
    ...(params.instance !== undefined ? { sopInstanceUid: uidParam(params.instance, 'SOPInstanceUID') } : {}),
  };
}

/** The target in words, for the 404 detail (UIDs only: never patient data). */
export function describe(target: DeletionTarget): string {
  if (target.sopInstanceUid !== undefined) return `instance ${target.sopInstanceUid} of series ${target.seriesInstanceUid} in study ${target.studyInstanceUid}`;
  if (target.seriesInstanceUid !== undefined) return `series ${target.seriesInstanceUid} of study ${target.studyInstanceUid}`;
  return `study ${target.studyInstanceUid}`;
}
