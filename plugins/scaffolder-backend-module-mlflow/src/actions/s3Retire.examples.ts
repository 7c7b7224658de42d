import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Keep the artifact bucket of a decommissioned instance for 90 days',
    example: yaml.stringify({
      steps: [
        {
          id: 'artifacts',
          action: 'mlflow:s3:retire',
          name: 'Retire the artifact bucket',
          input: { name: 'demo', region: 'eu-west-1' },
        },
      ],
    }),
  },
  {
    description: 'Empty and delete the artifact bucket, as the owner chose',
    example: yaml.stringify({
      steps: [
        {
          id: 'artifacts',
          action: 'mlflow:s3:retire',
          name: 'Delete the artifact bucket',
          input: {
            name: 'forecasting',
            region: 'eu-west-1',
            bucket: 'acme-mlflow-forecasting',
            deleteBucket: true,
          },
        },
      ],
    }),
  },
];
