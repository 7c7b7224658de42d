import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: 'Artifact bucket with SSE-S3 and the default prefix',
    example: yaml.stringify({
      steps: [
        {
          id: 'artifacts',
          action: 'mlflow:s3:create',
          name: 'Create the artifact bucket',
          input: {
            name: 'demo',
            bucket: 'acme-mlflow-demo-artifacts',
            region: 'eu-west-1',
            owner: 'group:default/ml-platform',
          },
        },
      ],
    }),
  },
  {
    description: 'Production bucket encrypted with a customer-managed KMS key',
    example: yaml.stringify({
      steps: [
        {
          id: 'artifacts',
          action: 'mlflow:s3:create',
          name: 'Create the artifact bucket',
          input: {
            name: 'forecasting',
            bucket: 'acme-mlflow-forecasting',
            region: 'us-east-1',
            artifactPrefix: 'mlflow/artifacts',
            kmsKeyId: 'alias/mlflow-artifacts',
            noncurrentVersionExpirationDays: 90,
            environment: 'prod',
            owner: 'group:default/forecasting',
            tags: { 'cost-center': 'ml-1234' },
          },
        },
      ],
    }),
  },
];
