import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Delete the PostgreSQL instance of an instance after its final snapshot',
    example: yaml.stringify({
      steps: [
        {
          id: 'rds',
          action: 'mlflow:rds:delete',
          name: 'Delete the PostgreSQL instance (final snapshot first)',
          input: { name: 'demo', region: 'eu-west-1' },
        },
      ],
    }),
  },
  {
    description:
      'Delete a protected production instance, lifting its deletion protection as the owner chose',
    example: yaml.stringify({
      steps: [
        {
          id: 'rds',
          action: 'mlflow:rds:delete',
          name: 'Delete the PostgreSQL instance (final snapshot first)',
          input: {
            name: 'forecasting',
            region: 'eu-west-1',
            instanceId: 'mlflow-forecasting-prod',
            liftDeletionProtection: true,
            finalSnapshotIdentifier: 'mlflow-forecasting-prod-final',
            timeoutSeconds: 3600,
          },
        },
      ],
    }),
  },
];
