// Every action factory, for the module, the package's exports and the tests: no action file
// imports another.
export { createCatalogRemoveInstanceAction } from './actions/catalogRemoveInstance';
export { createDatabaseCreateAction } from './actions/databaseCreate';
export { createIamCreateRoleAction } from './actions/iamCreateRole';
export { createIamDeleteRoleAction } from './actions/iamDeleteRole';
export { createInstanceCheckHealthAction } from './actions/instanceCheckHealth';
export { createInstanceDecommissionPlanAction } from './actions/instanceDecommissionPlan';
export { createInstancePlanAction } from './actions/instancePlan';
export { createInstanceUpgradePlanAction } from './actions/instanceUpgradePlan';
export { createKubernetesDeleteAction } from './actions/kubernetesDelete';
export { createKubernetesDeployAction } from './actions/kubernetesDeploy';
export { createRdsCreateAction } from './actions/rdsCreate';
export { createRdsDeleteAction } from './actions/rdsDelete';
export { createRdsModifyAction } from './actions/rdsModify';
export { createRdsSnapshotAction } from './actions/rdsSnapshot';
export { createS3CreateAction } from './actions/s3Create';
export { createS3RetireAction } from './actions/s3Retire';
