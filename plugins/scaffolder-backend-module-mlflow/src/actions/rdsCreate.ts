import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateDBInstanceCommand,
  CreateDBParameterGroupCommand,
  DBInstance,
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  ModifyDBParameterGroupCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  describeReceived,
  nameRules,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { awsErrorName, callAws } from '../aws/awsErrors';
import {
  AwsClientConfigProvider,
  awsPartition,
  callerAccountId,
} from '../aws/clients';
import { isOursTagged, mlflowTags } from '../aws/tags';
import { waitFor } from '../util/waitFor';
import {
  accountIdInput,
  environmentInput,
  nameInput,
  ownerInput,
  regionInput,
  tagsInput,
  timeoutSecondsInput,
} from './commonInputs';
import { validateKmsKey } from './s3Create';
import { examples } from './rdsCreate.examples';

/** The master user's default name; the database action connects as this role. */
export const DEFAULT_MASTER_USERNAME = 'mlflowadmin';

/** Reads an RDS instance; undefined when it does not exist. */
export async function describeDbInstance(
  rds: RDSClient,
  instanceId: string,
): Promise<DBInstance | undefined> {
  try {
    const result = await rds.send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }),
    );
    return result.DBInstances?.[0];
  } catch (error) {
    if (
      awsErrorName(error) === 'DBInstanceNotFoundFault' ||
      awsErrorName(error) === 'DBInstanceNotFound'
    ) {
      return undefined;
    }
    return callAws(
      'rds:DescribeDBInstances',
      `RDS instance "${instanceId}"`,
      () => Promise.reject(error),
    );
  }
}

/** Creates the PostgreSQL RDS instance of an MLflow instance with secure defaults. */
export function createRdsCreateAction(options: {
  aws: AwsClientConfigProvider;
  /** Milliseconds between status polls while waiting; tests shorten it. */
  pollIntervalMs?: number;
}) {
  const pollIntervalMs = options.pollIntervalMs ?? 15_000;
  return createTemplateAction({
    id: 'mlflow:rds:create',
    description:
      'Creates (or converges) the PostgreSQL RDS instance that is the backend store of an MLflow instance: encrypted, private, gp3 with storage autoscaling, backups, Multi-AZ and deletion protection in prod, TLS forced, master password managed by RDS in Secrets Manager, and a security group allowing 5432 only from the given security groups.',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: nameInput,
        region: regionInput,
        accountId: accountIdInput,
        instanceId: z =>
          z
            .string()
            .optional()
            .describe(
              'RDS DB instance identifier; mlflow-<name> when empty. 1 to 63 lowercase letters, digits and single hyphens, starting with a letter.',
            ),
        environment: environmentInput,
        owner: ownerInput,
        engineVersion: z =>
          z
            .string()
            .regex(/^\d+(\.\d+)?$/)
            .default('17')
            .describe(
              'PostgreSQL version: a major version (17) lets RDS pick the newest minor.',
            ),
        instanceClass: z =>
          z
            .string()
            .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/)
            .default('db.t4g.small')
            .describe('RDS instance class, e.g. db.t4g.small or db.m7g.large.'),
        allocatedStorageGiB: z =>
          z
            .number()
            .int()
            .min(20)
            .max(65536)
            .default(20)
            .describe('Initial gp3 storage in GiB.'),
        maxAllocatedStorageGiB: z =>
          z
            .number()
            .int()
            .min(21)
            .max(65536)
            .default(100)
            .describe(
              'Upper limit of storage autoscaling in GiB; larger than allocatedStorageGiB.',
            ),
        kmsKeyId: z =>
          z
            .string()
            .optional()
            .describe(
              'KMS key for storage encryption; the AWS-managed RDS key when empty. Encryption is always on.',
            ),
        multiAz: z =>
          z
            .boolean()
            .optional()
            .describe(
              'Standby in a second availability zone; on in prod, off elsewhere, unless set.',
            ),
        deletionProtection: z =>
          z
            .boolean()
            .optional()
            .describe('Deletion protection; on in prod unless set.'),
        backupRetentionDays: z =>
          z
            .number()
            .int()
            .min(1)
            .max(35)
            .optional()
            .describe(
              'Days of automated backups; 14 in prod, 7 elsewhere, unless set.',
            ),
        vpcId: z =>
          z
            .string()
            .optional()
            .describe(
              "VPC of the instance's security group; the account's default VPC when empty. Must match the subnet group.",
            ),
        dbSubnetGroupName: z =>
          z
            .string()
            .optional()
            .describe(
              'DB subnet group (private subnets, same VPC as the cluster); the default VPC when empty.',
            ),
        allowedSecurityGroupIds: z =>
          z
            .array(z.string())
            .default([])
            .describe(
              'Security groups allowed to reach PostgreSQL on 5432 (e.g. the EKS cluster or node security group). Nothing else is allowed in.',
            ),
        masterUsername: z =>
          z
            .string()
            .default(DEFAULT_MASTER_USERNAME)
            .describe(
              'Name of the master user. Its password is generated and kept by RDS in Secrets Manager; it never passes through Backstage.',
            ),
        masterUserSecretKmsKeyId: z =>
          z
            .string()
            .optional()
            .describe(
              'KMS key encrypting the managed master secret; the Secrets Manager default key when empty.',
            ),
        waitForAvailable: z =>
          z
            .boolean()
            .default(true)
            .describe(
              'Wait until the instance is available (needed before mlflow:database:create; RDS takes 5 to 20 minutes).',
            ),
        timeoutSeconds: z => timeoutSecondsInput(z, 2400),
        tags: tagsInput,
      },
      output: {
        instanceId: z => z.string().describe('RDS DB instance identifier.'),
        arn: z => z.string().describe('ARN of the DB instance.'),
        endpoint: z =>
          z
            .string()
            .describe(
              'Host name of the instance (empty until RDS has assigned it).',
            ),
        port: z => z.number().describe('PostgreSQL port.'),
        masterSecretArn: z =>
          z
            .string()
            .describe(
              'ARN of the RDS-managed master secret in Secrets Manager (the ARN only, never its value); empty while RDS is still creating it, mlflow:database:create then reads it from the instance.',
            ),
        securityGroupId: z =>
          z.string().describe('Security group guarding the instance.'),
        status: z =>
          z
            .string()
            .describe('Instance status when the step ended, e.g. available.'),
      },
    },
    async handler(ctx) {
      const {
        environment,
        owner,
        tags,
        accountId,
        engineVersion,
        instanceClass,
        allocatedStorageGiB,
        maxAllocatedStorageGiB,
        dbSubnetGroupName,
        waitForAvailable,
        timeoutSeconds,
      } = ctx.input;
      const name = validateName(nameRules.instanceName, 'name', ctx.input.name);
      const region = validateName(
        nameRules.awsRegion,
        'region',
        ctx.input.region,
      );
      const instanceId = validateName(
        nameRules.rdsInstanceIdentifier,
        'instanceId',
        ctx.input.instanceId || `mlflow-${name}`,
      );
      const masterUsername = validateName(
        nameRules.postgresRoleName,
        'masterUsername',
        ctx.input.masterUsername,
      );
      const allowedSecurityGroupIds = ctx.input.allowedSecurityGroupIds.map(
        (id, i) =>
          validateName(
            nameRules.securityGroupId,
            `allowedSecurityGroupIds[${i}]`,
            id,
          ),
      );
      const kmsKeyId =
        ctx.input.kmsKeyId && validateKmsKey('kmsKeyId', ctx.input.kmsKeyId);
      const masterUserSecretKmsKeyId =
        ctx.input.masterUserSecretKmsKeyId &&
        validateKmsKey(
          'masterUserSecretKmsKeyId',
          ctx.input.masterUserSecretKmsKeyId,
        );
      if (ctx.input.vpcId && !/^vpc-[0-9a-f]{8,17}$/.test(ctx.input.vpcId)) {
        throw new InputError(
          `Invalid vpcId: received ${describeReceived(
            ctx.input.vpcId,
          )}. Accepted: a VPC id, vpc- followed by 8 or 17 hexadecimal digits.`,
        );
      }
      if (maxAllocatedStorageGiB <= allocatedStorageGiB) {
        throw new InputError(
          `Invalid maxAllocatedStorageGiB: received ${maxAllocatedStorageGiB}, but it must be larger than allocatedStorageGiB (${allocatedStorageGiB}) for storage autoscaling.`,
        );
      }
      const prod = environment === 'prod';
      const multiAz = ctx.input.multiAz ?? prod;
      const deletionProtection = ctx.input.deletionProtection ?? prod;
      const backupRetentionDays =
        ctx.input.backupRetentionDays ?? (prod ? 14 : 7);
      if (prod && (!multiAz || !deletionProtection)) {
        ctx.logger.warn(
          `Production instance ${instanceId} without ${[
            !multiAz && 'Multi-AZ',
            !deletionProtection && 'deletion protection',
          ]
            .filter(Boolean)
            .join(' and ')}: this was asked for explicitly`,
        );
      }
      const major = engineVersion.split('.')[0];
      const parameterGroupName = `${instanceId}-postgres${major}`;
      const securityGroupName = `${instanceId}-postgres`;
      const resourceTags = mlflowTags({
        name,
        owner,
        environment,
        extra: tags,
      });

      const config = await options.aws.forRegion({ region, accountId });
      const rds = new RDSClient(config);
      const ec2 = new EC2Client(config);
      const account = await callerAccountId(config);
      const arn = `arn:${awsPartition(
        region,
      )}:rds:${region}:${account}:db:${instanceId}`;
      const target = `RDS instance "${instanceId}"`;

      ctx.logger.info(`Checking whether RDS instance ${instanceId} exists`);
      const existing = await describeDbInstance(rds, instanceId);
      if (existing && !isOursTagged(existing.TagList, name)) {
        throw new InputError(
          `Invalid instanceId: received ${describeReceived(
            instanceId,
          )}, but an RDS instance with that identifier already exists and was not created for MLflow instance "${name}" (it lacks the tag stateful-mlflow/instance=${name}). It is not adopted silently: choose another identifier.`,
        );
      }

      if (allowedSecurityGroupIds.length > 0) {
        ctx.logger.info(
          `Checking that the allowed security groups ${allowedSecurityGroupIds.join(
            ', ',
          )} exist`,
        );
        try {
          await ec2.send(
            new DescribeSecurityGroupsCommand({
              GroupIds: allowedSecurityGroupIds,
            }),
          );
        } catch (error) {
          if (awsErrorName(error) === 'InvalidGroup.NotFound') {
            throw new InputError(
              `Invalid allowedSecurityGroupIds: received ${describeReceived(
                allowedSecurityGroupIds.join(','),
              )}, but at least one of them does not exist in ${region}. Accepted: ids of existing security groups in the instance's VPC.`,
            );
          }
          await callAws(
            'ec2:DescribeSecurityGroups',
            'the allowed security groups',
            () => Promise.reject(error),
          );
        }
      } else {
        ctx.logger.warn(
          'allowedSecurityGroupIds is empty: nothing will be able to reach the database until a security group is allowed in',
        );
      }

      const vpcId = ctx.input.vpcId || (await defaultVpcId(ec2, region));
      const existingGroup = await findSecurityGroup(
        ec2,
        securityGroupName,
        vpcId,
      );
      if (existingGroup && !isOursTagged(existingGroup.Tags, name)) {
        throw new InputError(
          `The security group ${securityGroupName} already exists in ${vpcId} and was not created for MLflow instance "${name}"; choose another instanceId.`,
        );
      }

      if (existing) {
        for (const drift of postureDrift(existing, {
          multiAz,
          deletionProtection,
          backupRetentionDays,
        })) {
          ctx.logger.warn(
            `RDS instance ${instanceId} exists and is kept as it is, but ${drift}; change it in RDS (a modification may restart the instance)`,
          );
        }
      }
      ctx.logger.info(
        `Plan for RDS instance ${instanceId} in ${region}: ${
          existing
            ? `it exists (${existing.DBInstanceStatus}) and is ours; not modified`
            : 'create it'
        }; PostgreSQL ${engineVersion} on ${instanceClass}, ${allocatedStorageGiB} GiB gp3 growing to ${maxAllocatedStorageGiB} GiB, encrypted${
          kmsKeyId ? ` with ${kmsKeyId}` : ''
        }, not publicly accessible, Multi-AZ ${
          multiAz ? 'on' : 'off'
        }, deletion protection ${
          deletionProtection ? 'on' : 'off'
        }, ${backupRetentionDays} days of backups, master user ${masterUsername} with its password managed by RDS in Secrets Manager, TLS forced by parameter group ${parameterGroupName}, security group ${securityGroupName} in ${vpcId} allowing 5432 from ${
          allowedSecurityGroupIds.join(', ') || 'nothing yet'
        }`,
      );

      if (ctx.isDryRun) {
        ctx.output('instanceId', instanceId);
        ctx.output('arn', arn);
        ctx.output(
          'endpoint',
          existing?.Endpoint?.Address ??
            `${instanceId}.dry-run.${region}.rds.amazonaws.com`,
        );
        ctx.output('port', existing?.Endpoint?.Port ?? 5432);
        ctx.output(
          'masterSecretArn',
          existing?.MasterUserSecret?.SecretArn ??
            `arn:${awsPartition(
              region,
            )}:secretsmanager:${region}:${account}:secret:rds!db-dry-run`,
        );
        ctx.output('securityGroupId', existingGroup?.GroupId ?? 'sg-00000000');
        ctx.output('status', existing?.DBInstanceStatus ?? 'dry-run');
        return;
      }

      const securityGroupId =
        existingGroup?.GroupId ??
        (await ctx.checkpoint({
          key: `mlflow:rds:${instanceId}:security-group`,
          fn: async () => {
            ctx.logger.info(
              `Creating security group ${securityGroupName} in ${vpcId}`,
            );
            const created = await callAws(
              'ec2:CreateSecurityGroup',
              `security group "${securityGroupName}"`,
              () =>
                ec2.send(
                  new CreateSecurityGroupCommand({
                    GroupName: securityGroupName,
                    Description: `PostgreSQL of MLflow instance ${name}`,
                    VpcId: vpcId,
                    TagSpecifications: [
                      { ResourceType: 'security-group', Tags: resourceTags },
                    ],
                  }),
                ),
            );
            if (!created.GroupId) {
              throw new Error('ec2:CreateSecurityGroup returned no GroupId');
            }
            return created.GroupId;
          },
        }));

      for (const sourceGroupId of allowedSecurityGroupIds) {
        await ctx.checkpoint({
          key: `mlflow:rds:${instanceId}:ingress:${sourceGroupId}`,
          fn: async () => {
            ctx.logger.info(
              `Allowing PostgreSQL (5432) into ${securityGroupId} from ${sourceGroupId}`,
            );
            try {
              await ec2.send(
                new AuthorizeSecurityGroupIngressCommand({
                  GroupId: securityGroupId,
                  IpPermissions: [
                    {
                      IpProtocol: 'tcp',
                      FromPort: 5432,
                      ToPort: 5432,
                      UserIdGroupPairs: [
                        {
                          GroupId: sourceGroupId,
                          Description: `PostgreSQL clients of MLflow instance ${name}`,
                        },
                      ],
                    },
                  ],
                }),
              );
            } catch (error) {
              // The same rule already being there is the state we want.
              if (awsErrorName(error) !== 'InvalidPermission.Duplicate') {
                await callAws(
                  'ec2:AuthorizeSecurityGroupIngress',
                  `security group "${securityGroupId}"`,
                  () => Promise.reject(error),
                );
              }
            }
          },
        });
      }

      await ctx.checkpoint({
        key: `mlflow:rds:${instanceId}:parameter-group`,
        fn: async () => {
          const exists = await rds
            .send(
              new DescribeDBParameterGroupsCommand({
                DBParameterGroupName: parameterGroupName,
              }),
            )
            .then(
              found => (found.DBParameterGroups ?? []).length > 0,
              error => {
                if (
                  awsErrorName(error) === 'DBParameterGroupNotFound' ||
                  awsErrorName(error) === 'DBParameterGroupNotFoundFault'
                ) {
                  return false;
                }
                return callAws(
                  'rds:DescribeDBParameterGroups',
                  `parameter group "${parameterGroupName}"`,
                  () => Promise.reject(error),
                );
              },
            );
          if (!exists) {
            ctx.logger.info(`Creating parameter group ${parameterGroupName}`);
            await callAws(
              'rds:CreateDBParameterGroup',
              `parameter group "${parameterGroupName}"`,
              () =>
                rds.send(
                  new CreateDBParameterGroupCommand({
                    DBParameterGroupName: parameterGroupName,
                    DBParameterGroupFamily: `postgres${major}`,
                    Description: `MLflow instance ${name}: TLS forced`,
                    Tags: resourceTags,
                  }),
                ),
            );
          }
          ctx.logger.info(
            `Forcing TLS (rds.force_ssl=1) in ${parameterGroupName}`,
          );
          await callAws(
            'rds:ModifyDBParameterGroup',
            `parameter group "${parameterGroupName}"`,
            () =>
              rds.send(
                new ModifyDBParameterGroupCommand({
                  DBParameterGroupName: parameterGroupName,
                  Parameters: [
                    {
                      ParameterName: 'rds.force_ssl',
                      ParameterValue: '1',
                      ApplyMethod: 'immediate',
                    },
                  ],
                }),
              ),
          );
        },
      });

      if (!existing) {
        await ctx.checkpoint({
          key: `mlflow:rds:${instanceId}:create`,
          fn: async () => {
            ctx.logger.info(`Creating RDS instance ${instanceId} in ${region}`);
            await callAws('rds:CreateDBInstance', target, () =>
              rds.send(
                new CreateDBInstanceCommand({
                  DBInstanceIdentifier: instanceId,
                  Engine: 'postgres',
                  EngineVersion: engineVersion,
                  DBInstanceClass: instanceClass,
                  AllocatedStorage: allocatedStorageGiB,
                  MaxAllocatedStorage: maxAllocatedStorageGiB,
                  StorageType: 'gp3',
                  StorageEncrypted: true,
                  KmsKeyId: kmsKeyId || undefined,
                  PubliclyAccessible: false,
                  MultiAZ: multiAz,
                  DeletionProtection: deletionProtection,
                  BackupRetentionPeriod: backupRetentionDays,
                  CopyTagsToSnapshot: true,
                  AutoMinorVersionUpgrade: true,
                  MasterUsername: masterUsername,
                  ManageMasterUserPassword: true,
                  MasterUserSecretKmsKeyId:
                    masterUserSecretKmsKeyId || undefined,
                  VpcSecurityGroupIds: [securityGroupId],
                  DBSubnetGroupName: dbSubnetGroupName || undefined,
                  DBParameterGroupName: parameterGroupName,
                  Port: 5432,
                  Tags: resourceTags,
                }),
              ),
            );
          },
        });
      }

      const instance = waitForAvailable
        ? await waitFor({
            what: `RDS instance ${instanceId} to become available`,
            timeoutSeconds,
            logger: ctx.logger,
            signal: ctx.signal,
            pollIntervalMs,
            check: async () => {
              const current = await describeDbInstance(rds, instanceId);
              const status = current?.DBInstanceStatus ?? 'not visible yet';
              return current && status === 'available'
                ? { done: true, value: current }
                : { done: false, status };
            },
          })
        : await describeDbInstance(rds, instanceId);
      if (!instance) {
        throw new Error(
          `RDS instance ${instanceId} is not visible after creation`,
        );
      }
      const masterSecretArn = instance.MasterUserSecret?.SecretArn ?? '';
      if (!masterSecretArn && instance.DBInstanceStatus === 'available') {
        throw new Error(
          `RDS instance ${instanceId} has no managed master secret (MasterUserSecret): it was created without ManageMasterUserPassword. Turn on "Manage master credentials in AWS Secrets Manager" for it.`,
        );
      }
      ctx.output('instanceId', instanceId);
      ctx.output('arn', instance.DBInstanceArn ?? arn);
      ctx.output('endpoint', instance.Endpoint?.Address ?? '');
      ctx.output('port', instance.Endpoint?.Port ?? 5432);
      ctx.output('masterSecretArn', masterSecretArn);
      ctx.output('securityGroupId', securityGroupId);
      ctx.output('status', instance.DBInstanceStatus ?? 'unknown');
    },
  });
}

/** Where an existing instance falls short of the settings asked for; it is never modified here. */
export function postureDrift(
  instance: DBInstance,
  wanted: {
    multiAz: boolean;
    deletionProtection: boolean;
    backupRetentionDays: number;
  },
): string[] {
  const drift: string[] = [];
  if (instance.StorageEncrypted === false) {
    drift.push('its storage is not encrypted');
  }
  if (instance.PubliclyAccessible === true) {
    drift.push('it is publicly accessible');
  }
  if (wanted.multiAz && instance.MultiAZ === false) {
    drift.push('it is not Multi-AZ');
  }
  if (wanted.deletionProtection && instance.DeletionProtection === false) {
    drift.push('deletion protection is off');
  }
  if (
    (instance.BackupRetentionPeriod ?? wanted.backupRetentionDays) <
    wanted.backupRetentionDays
  ) {
    drift.push(
      `it keeps backups for ${instance.BackupRetentionPeriod} days, not ${wanted.backupRetentionDays}`,
    );
  }
  return drift;
}

async function defaultVpcId(ec2: EC2Client, region: string): Promise<string> {
  const vpcs = await callAws(
    'ec2:DescribeVpcs',
    `the default VPC of ${region}`,
    () =>
      ec2.send(
        new DescribeVpcsCommand({
          Filters: [{ Name: 'is-default', Values: ['true'] }],
        }),
      ),
  );
  const vpcId = vpcs.Vpcs?.[0]?.VpcId;
  if (!vpcId) {
    throw new InputError(
      `Missing vpcId: the account has no default VPC in ${region}. Give the vpcId (and dbSubnetGroupName) of the VPC your cluster runs in.`,
    );
  }
  return vpcId;
}

async function findSecurityGroup(
  ec2: EC2Client,
  groupName: string,
  vpcId: string,
) {
  const result = await callAws(
    'ec2:DescribeSecurityGroups',
    `security group "${groupName}"`,
    () =>
      ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'group-name', Values: [groupName] },
            { Name: 'vpc-id', Values: [vpcId] },
          ],
        }),
      ),
  );
  return result.SecurityGroups?.[0];
}
