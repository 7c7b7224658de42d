import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Development instance in the default VPC, reachable from the cluster security group',
    example: yaml.stringify({
      steps: [
        {
          id: 'rds',
          action: 'mlflow:rds:create',
          name: 'Create the PostgreSQL instance',
          input: {
            name: 'demo',
            region: 'eu-west-1',
            allowedSecurityGroupIds: ['sg-0123456789abcdef0'],
            owner: 'group:default/ml-platform',
          },
        },
      ],
    }),
  },
  {
    description:
      'Production instance in a private subnet group with a customer-managed key',
    example: yaml.stringify({
      steps: [
        {
          id: 'rds',
          action: 'mlflow:rds:create',
          name: 'Create the PostgreSQL instance',
          input: {
            name: 'forecasting',
            region: 'eu-west-1',
            instanceId: 'mlflow-forecasting-prod',
            environment: 'prod',
            instanceClass: 'db.m7g.large',
            allocatedStorageGiB: 100,
            maxAllocatedStorageGiB: 500,
            kmsKeyId:
              'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
            vpcId: 'vpc-0a1b2c3d4e5f60718',
            dbSubnetGroupName: 'private-db-subnets',
            allowedSecurityGroupIds: ['sg-0123456789abcdef0'],
            owner: 'group:default/forecasting',
            timeoutSeconds: 3600,
          },
        },
      ],
    }),
  },
];
