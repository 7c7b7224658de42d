import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: 'Plan the decommission of an instance, keeping its bucket',
    example: yaml.stringify({
      steps: [
        {
          id: 'plan',
          action: 'mlflow:instance:planDecommission',
          name: 'Confirm and plan the decommission',
          input: {
            name: 'demo',
            confirmName: 'demo',
            region: 'eu-west-1',
            cluster: 'prod-eu',
          },
        },
      ],
    }),
  },
  {
    description:
      'Plan the decommission of a protected production instance, deleting its bucket too',
    example: yaml.stringify({
      steps: [
        {
          id: 'plan',
          action: 'mlflow:instance:planDecommission',
          name: 'Confirm and plan the decommission',
          input: {
            name: 'forecasting',
            confirmName: 'forecasting',
            region: 'eu-west-1',
            cluster: 'prod-eu',
            liftDeletionProtection: true,
            deleteBucket: true,
          },
        },
      ],
    }),
  },
];
