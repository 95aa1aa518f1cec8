export { lifecycleRoutes, type LifecycleRoutesOptions, describe as describeDeletionTarget } from './lifecycle-routes.js';
export { deleteResource, type DeleteDependencies, type DeleteOutcome } from './delete-resources.js';
