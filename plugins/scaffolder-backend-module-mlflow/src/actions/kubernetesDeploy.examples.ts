import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Production tracking server wired to the outputs of the other MLflow steps',
    example: yaml.stringify({
      steps: [
        {
          id: 'deploy',
          action: 'mlflow:kubernetes:deploy',
          name: 'Deploy the tracking server',
          input: {
            name: 'forecasting',
            cluster: 'prod-eu',
            image: 'ghcr.io/acme/mlflow-server:3.1.0',
            hostname: 'forecasting.mlflow.example.com',
            tlsSecretName: 'mlflow-example-com-tls',
            ingressClassName: 'nginx',
            environment: 'prod',
            replicas: 3,
            region: 'eu-west-1',
            roleArn: 'arn:aws:iam::123456789012:role/mlflow-forecasting',
            artifactsDestination: 's3://acme-mlflow-forecasting/artifacts',
            databaseSecretName: 'forecasting-db',
            rdsInstanceId: 'mlflow-forecasting',
            databaseName: 'mlflow_forecasting',
            dbMaxConnections: 400,
            owner: 'group:default/forecasting',
            system: 'forecasting',
            description: 'Experiment tracking for the forecasting team',
          },
        },
      ],
    }),
  },
  {
    description:
      'Render the manifests into the workspace for a GitOps repository without applying them',
    example: yaml.stringify({
      steps: [
        {
          id: 'manifests',
          action: 'mlflow:kubernetes:deploy',
          name: 'Render the tracking server manifests',
          input: {
            name: 'demo',
            cluster: 'dev',
            image: 'ghcr.io/acme/mlflow-server:3.1.0',
            hostname: 'demo.mlflow.example.com',
            artifactsDestination: 's3://acme-mlflow-demo/artifacts',
            apply: false,
            manifestsPath: 'manifests/mlflow.yaml',
          },
        },
      ],
    }),
  },
  {
    description:
      'Throw-away demonstration server on sqlite and local disk (loses everything on restart)',
    example: yaml.stringify({
      steps: [
        {
          id: 'ephemeral',
          action: 'mlflow:kubernetes:deploy',
          name: 'Deploy an ephemeral tracking server',
          input: {
            name: 'scratch',
            cluster: 'dev',
            image: 'ghcr.io/acme/mlflow-server:3.1.0',
            hostname: 'scratch.mlflow.localhost',
            replicas: 1,
            workers: 1,
            allowEphemeralStorage: true,
            // A throw-away server has no sign-in database.
            allowAnonymousAccess: true,
            backendStoreUri: 'sqlite:////tmp/mlflow.db',
            artifactsDestination: '/tmp/artifacts',
          },
        },
      ],
    }),
  },
];
