import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: 'Role for IRSA, using the outputs of mlflow:s3:create',
    example: yaml.stringify({
      steps: [
        {
          id: 'role',
          action: 'mlflow:iam:createRole',
          name: 'Create the IAM role of the tracking server',
          input: {
            name: 'demo',
            region: 'eu-west-1',
            bucket: 'acme-mlflow-demo-artifacts',
            oidcProviderArn:
              'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
            owner: 'group:default/ml-platform',
          },
        },
      ],
    }),
  },
  {
    description: 'Role for EKS Pod Identity with an SSE-KMS bucket',
    example: yaml.stringify({
      steps: [
        {
          id: 'role',
          action: 'mlflow:iam:createRole',
          name: 'Create the IAM role of the tracking server',
          input: {
            name: 'forecasting',
            region: 'eu-west-1',
            roleName: 'mlflow-forecasting-server',
            bucket: 'acme-mlflow-forecasting',
            artifactPrefix: 'mlflow/artifacts',
            kmsKeyArn:
              'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
            namespace: 'forecasting',
            trustType: 'podIdentity',
            environment: 'prod',
          },
        },
      ],
    }),
  },
];
