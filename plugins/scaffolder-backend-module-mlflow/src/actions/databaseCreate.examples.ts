import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Database and role on the instance created by mlflow:rds:create, credentials in a Kubernetes Secret',
    example: yaml.stringify({
      steps: [
        {
          id: 'database',
          action: 'mlflow:database:create',
          name: 'Create the MLflow database and role',
          input: {
            name: 'demo',
            region: 'eu-west-1',
            instanceId: '${{ steps.rds.output.instanceId }}',
            masterSecretArn: '${{ steps.rds.output.masterSecretArn }}',
            cluster: 'dev',
          },
        },
      ],
    }),
  },
  {
    description:
      'Custom names, with a copy of the credentials in Secrets Manager',
    example: yaml.stringify({
      steps: [
        {
          id: 'database',
          action: 'mlflow:database:create',
          name: 'Create the MLflow database and role',
          input: {
            name: 'forecasting',
            region: 'eu-west-1',
            instanceId: 'mlflow-forecasting',
            databaseName: 'mlflow_forecasting',
            username: 'mlflow_forecasting',
            cluster: 'prod-eu',
            namespace: 'forecasting',
            secretName: 'forecasting-mlflow-db',
            storeInSecretsManager: true,
            environment: 'prod',
            owner: 'group:default/forecasting',
          },
        },
      ],
    }),
  },
];
