import { EC2Client, SecurityGroup } from '@aws-sdk/client-ec2';
import { DBInstance, RDSClient } from '@aws-sdk/client-rds';
import { LoggerService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  describeReceived,
  nameRules,
  OWNERSHIP_TAG_KEY,
  resolveInstanceNames,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { StepDeadline } from '../util/stepDeadline';
import {
  assertSecurityGroupsExist,
  defaultVpcId,
  findSecurityGroup,
} from './ec2';
import {
  describeDbInstance,
  PostgresInstanceSpec,
  postgresInstanceNames,
  postureDrift,
} from './rds';
import { isOursTagged } from './tags';

/** What a caller asks of the PostgreSQL instance (the inputs of mlflow:rds:create). */
export type PostgresInstanceRequest = {
  name: string;
  region: string;
  instanceId?: string;
  environment: string;
  engineVersion: string;
  instanceClass: string;
  allocatedStorageGiB: number;
  maxAllocatedStorageGiB: number;
  kmsKeyId?: string;
  multiAz?: boolean;
  deletionProtection?: boolean;
  backupRetentionDays?: number;
  vpcId?: string;
  dbSubnetGroupName?: string;
  allowedSecurityGroupIds: string[];
  masterUsername: string;
  masterUserSecretKmsKeyId?: string;
};

/** The validated request with every default decided; no AWS call has been made. */
export type PostgresInstancePlan = {
  name: string;
  region: string;
  instanceId: string;
  /** Empty: the account's default VPC, looked up later. */
  vpcId?: string;
  allowedSecurityGroupIds: string[];
  securityGroupName: string;
  parameterGroupFamily: string;
  spec: Omit<PostgresInstanceSpec, 'securityGroupId' | 'tags'>;
  /** Settings below the production posture that were asked for explicitly. */
  warnings: string[];
};

function optionalField(
  rule: Parameters<typeof validateName>[0],
  field: string,
  value: string | undefined,
): string | undefined {
  return value ? validateName(rule, field, value) : undefined;
}

/** The RDS instance an action works on: the instance's name, the region and the instance id. */
export type RdsInstanceTarget = {
  name: string;
  region: string;
  instanceId: string;
};

/**
 * Validates name and region, then the RDS instance id (`mlflow-<name>` when empty), in that order
 * and before any AWS call; the InputErrors name the field, the value and the rule.
 */
export function resolveRdsInstanceTarget(input: {
  name: string;
  region: string;
  instanceId?: string;
}): RdsInstanceTarget {
  const name = validateName(nameRules.instanceName, 'name', input.name);
  const region = validateName(nameRules.awsRegion, 'region', input.region);
  const instanceId = validateName(
    nameRules.rdsInstanceIdentifier,
    'instanceId',
    resolveInstanceNames({ name, rdsInstanceId: input.instanceId })
      .rdsInstanceId,
  );
  return { name, region, instanceId };
}

/**
 * Validates the request (InputErrors naming the field, the value and the rule) and decides the
 * environment's defaults: Multi-AZ, deletion protection and 14 days of backups in prod.
 */
export function planPostgresInstance(
  request: PostgresInstanceRequest,
): PostgresInstancePlan {
  const { name, region, instanceId } = resolveRdsInstanceTarget(request);
  const engineVersion = validateName(
    nameRules.postgresEngineVersion,
    'engineVersion',
    request.engineVersion,
  );
  const instanceClass = validateName(
    nameRules.rdsInstanceClass,
    'instanceClass',
    request.instanceClass,
  );
  const masterUsername = validateName(
    nameRules.postgresRoleName,
    'masterUsername',
    request.masterUsername,
  );
  const allowedSecurityGroupIds = request.allowedSecurityGroupIds.map((id, i) =>
    validateName(
      nameRules.securityGroupId,
      `allowedSecurityGroupIds[${i}]`,
      id,
    ),
  );
  const kmsKeyId = optionalField(
    nameRules.kmsKeyId,
    'kmsKeyId',
    request.kmsKeyId,
  );
  const masterUserSecretKmsKeyId = optionalField(
    nameRules.kmsKeyId,
    'masterUserSecretKmsKeyId',
    request.masterUserSecretKmsKeyId,
  );
  const vpcId = optionalField(nameRules.vpcId, 'vpcId', request.vpcId);
  const dbSubnetGroupName = optionalField(
    nameRules.dbSubnetGroupName,
    'dbSubnetGroupName',
    request.dbSubnetGroupName,
  );
  const { allocatedStorageGiB, maxAllocatedStorageGiB } = request;
  if (maxAllocatedStorageGiB <= allocatedStorageGiB) {
    throw new InputError(
      `Invalid maxAllocatedStorageGiB: received ${maxAllocatedStorageGiB}, but it must be larger than allocatedStorageGiB (${allocatedStorageGiB}) for storage autoscaling.`,
    );
  }
  const prod = request.environment === 'prod';
  const multiAz = request.multiAz ?? prod;
  const deletionProtection = request.deletionProtection ?? prod;
  const backupRetentionDays = request.backupRetentionDays ?? (prod ? 14 : 7);
  const missing = [
    !multiAz && 'Multi-AZ',
    !deletionProtection && 'deletion protection',
  ].filter(Boolean);
  const { parameterGroupName, parameterGroupFamily, securityGroupName } =
    postgresInstanceNames(instanceId, engineVersion);
  return {
    name,
    region,
    instanceId,
    vpcId,
    allowedSecurityGroupIds,
    securityGroupName,
    parameterGroupFamily,
    spec: {
      instanceId,
      engineVersion,
      instanceClass,
      allocatedStorageGiB,
      maxAllocatedStorageGiB,
      kmsKeyId,
      multiAz,
      deletionProtection,
      backupRetentionDays,
      masterUsername,
      masterUserSecretKmsKeyId,
      dbSubnetGroupName,
      parameterGroupName,
    },
    warnings:
      prod && missing.length > 0
        ? [
            `Production instance ${instanceId} without ${missing.join(
              ' and ',
            )}: this was asked for explicitly`,
          ]
        : [],
  };
}

/** The plan in one log line: what exists, what is created, and with which settings. */
export function describePostgresPlan(
  plan: PostgresInstancePlan,
  found: { existing?: DBInstance; vpcId: string },
): string {
  const { spec, instanceId, region } = plan;
  const { existing, vpcId } = found;
  return `Plan for RDS instance ${instanceId} in ${region}: ${
    existing
      ? `it exists (${existing.DBInstanceStatus}) and is ours; not modified`
      : 'create it'
  }; PostgreSQL ${spec.engineVersion} on ${spec.instanceClass}, ${
    spec.allocatedStorageGiB
  } GiB gp3 growing to ${spec.maxAllocatedStorageGiB} GiB, encrypted${
    spec.kmsKeyId ? ` with ${spec.kmsKeyId}` : ''
  }, not publicly accessible, Multi-AZ ${
    spec.multiAz ? 'on' : 'off'
  }, deletion protection ${spec.deletionProtection ? 'on' : 'off'}, ${
    spec.backupRetentionDays
  } days of backups, master user ${
    spec.masterUsername
  } with its password managed by RDS in Secrets Manager, TLS forced by parameter group ${
    spec.parameterGroupName
  }, security group ${plan.securityGroupName} in ${vpcId} allowing 5432 from ${
    plan.allowedSecurityGroupIds.join(', ') || 'nothing yet'
  }`;
}

/**
 * The read-only checks before anything is created: the instance and its security group are free or
 * ours (anything else is refused by name), the allowed security groups exist, the VPC is known.
 * Logs how an existing instance falls short of the plan, then the plan itself.
 */
export async function inspectPostgresInstance(
  clients: { rds: RDSClient; ec2: EC2Client },
  plan: PostgresInstancePlan,
  options: { logger: LoggerService; deadline?: StepDeadline },
): Promise<{
  existing?: DBInstance;
  existingGroup?: SecurityGroup;
  vpcId: string;
}> {
  const { rds, ec2 } = clients;
  const { logger, deadline } = options;
  const { name, region, instanceId, securityGroupName } = plan;
  const { allowedSecurityGroupIds } = plan;
  logger.info(`Checking whether RDS instance ${instanceId} exists`);
  const existing = await describeDbInstance(rds, instanceId, deadline);
  if (existing && !isOursTagged(existing.TagList, name)) {
    throw new InputError(
      `Invalid instanceId: received ${describeReceived(
        instanceId,
      )}, but an RDS instance with that identifier already exists and was not created for MLflow instance "${name}" (it lacks the tag ${OWNERSHIP_TAG_KEY}=${name}). It is not adopted silently: choose another identifier.`,
    );
  }
  if (allowedSecurityGroupIds.length > 0) {
    logger.info(
      `Checking that the allowed security groups ${allowedSecurityGroupIds.join(
        ', ',
      )} exist`,
    );
    await assertSecurityGroupsExist(
      ec2,
      {
        field: 'allowedSecurityGroupIds',
        groupIds: allowedSecurityGroupIds,
        region,
      },
      deadline,
    );
  } else {
    logger.warn(
      'allowedSecurityGroupIds is empty: nothing will be able to reach the database until a security group is allowed in',
    );
  }
  const vpcId = plan.vpcId || (await defaultVpcId(ec2, region, deadline));
  const existingGroup = await findSecurityGroup(
    ec2,
    securityGroupName,
    vpcId,
    deadline,
  );
  if (existingGroup && !isOursTagged(existingGroup.Tags, name)) {
    throw new InputError(
      `The security group ${securityGroupName} already exists in ${vpcId} and was not created for MLflow instance "${name}"; choose another instanceId.`,
    );
  }
  for (const drift of existing ? postureDrift(existing, plan.spec) : []) {
    logger.warn(
      `RDS instance ${instanceId} exists and is kept as it is, but ${drift}; change it in RDS (a modification may restart the instance)`,
    );
  }
  logger.info(describePostgresPlan(plan, { existing, vpcId }));
  return { existing, existingGroup, vpcId };
}
