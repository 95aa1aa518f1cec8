export { lifecycleRoutes, type LifecycleRoutesOptions, describe as describeDeletionTarget } from './lifecycle-routes.js';
export { deleteResource, derivedPrefix, type DeleteDependencies, type DeleteOutcome } from './delete-resources.js';
