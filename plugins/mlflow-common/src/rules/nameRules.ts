import {
  awsRegion,
  dbSubnetGroupName,
  iamRoleName,
  rdsInstanceClass,
  rdsInstanceIdentifier,
  s3BucketName,
  secretsManagerName,
  securityGroupId,
  vpcId,
} from './awsNameRules';
import {
  iamPolicyArn,
  iamRoleArn,
  kmsKeyArn,
  kmsKeyId,
  oidcProviderArn,
  secretsManagerArn,
} from './awsArnRules';
import { artifactPrefix, instanceName } from './instanceRules';
import {
  clusterName,
  containerImage,
  envVarName,
  hostname,
  kubernetesName,
  kubernetesNamespace,
  kubernetesQuantity,
  labelValue,
  nginxSize,
} from './kubernetesRules';
import { NameRule } from './nameRule';
import {
  postgresDatabaseName,
  postgresEngineVersion,
  postgresRoleName,
} from './postgresRules';

/**
 * Every validation rule, by the kind of value it checks. The actions, the plan and the template's
 * form all use these; look a rule up here by its name.
 *
 * @public
 */
export const nameRules = {
  instanceName,
  artifactPrefix,
  rdsInstanceIdentifier,
  rdsInstanceClass,
  dbSubnetGroupName,
  postgresDatabaseName,
  postgresRoleName,
  postgresEngineVersion,
  s3BucketName,
  iamRoleName,
  awsRegion,
  securityGroupId,
  vpcId,
  secretsManagerName,
  kmsKeyId,
  kmsKeyArn,
  oidcProviderArn,
  iamRoleArn,
  iamPolicyArn,
  secretsManagerArn,
  kubernetesName,
  kubernetesNamespace,
  clusterName,
  hostname,
  containerImage,
  kubernetesQuantity,
  labelValue,
  envVarName,
  nginxSize,
} satisfies Record<string, NameRule>;
