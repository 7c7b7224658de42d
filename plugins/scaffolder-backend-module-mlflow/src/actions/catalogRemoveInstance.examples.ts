import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: 'Remove a decommissioned instance from the catalog',
    example: yaml.stringify({
      steps: [
        {
          id: 'catalog',
          action: 'mlflow:catalog:removeInstance',
          name: 'Remove the instance from the catalog',
          input: { name: 'demo', cluster: 'prod-eu' },
        },
      ],
    }),
  },
  {
    description: 'Remove an instance that ran in a namespace of its own name',
    example: yaml.stringify({
      steps: [
        {
          id: 'catalog',
          action: 'mlflow:catalog:removeInstance',
          name: 'Remove the instance from the catalog',
          input: {
            name: 'forecasting',
            cluster: 'prod-eu',
            namespace: 'mlflow-forecasting-prod',
            timeoutSeconds: 120,
          },
        },
      ],
    }),
  },
];
