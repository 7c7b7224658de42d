import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Check every value of a development instance and resolve the default names',
    example: yaml.stringify({
      steps: [
        {
          id: 'plan',
          action: 'mlflow:instance:plan',
          name: 'Check the values and plan',
          input: {
            name: 'demo',
            region: 'eu-west-1',
            cluster: 'local',
            replicas: 1,
            image: 'ghcr.io/acme/mlflow-server:3.1.0',
            hostname: 'demo.mlflow.example.com',
            trustType: 'podIdentity',
          },
        },
      ],
    }),
  },
  {
    description: 'A production instance with IRSA and explicit names',
    example: yaml.stringify({
      steps: [
        {
          id: 'plan',
          action: 'mlflow:instance:plan',
          name: 'Check the values and plan',
          input: {
            name: 'forecasting',
            environment: 'prod',
            region: 'eu-west-1',
            rdsInstanceId: 'mlflow-forecasting',
            databaseName: 'mlflow_forecasting',
            databaseUsername: 'mlflow_forecasting',
            allowedSecurityGroupIds: ['sg-0123456789abcdef0'],
            bucket: 'acme-mlflow-forecasting',
            cluster: 'local',
            namespace: 'forecasting',
            replicas: 3,
            image: 'ghcr.io/acme/mlflow-server:3.1.0',
            hostname: 'forecasting.mlflow.example.com',
            tlsSecretName: 'mlflow-example-com-tls',
            trustType: 'irsa',
            oidcProviderArn:
              'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123',
          },
        },
      ],
    }),
  },
];
