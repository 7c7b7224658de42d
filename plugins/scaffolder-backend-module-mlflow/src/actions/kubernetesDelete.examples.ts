import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: "Delete an instance's Kubernetes objects and its namespace",
    example: yaml.stringify({
      steps: [
        {
          id: 'kubernetes',
          action: 'mlflow:kubernetes:delete',
          name: 'Delete the tracking server from Kubernetes',
          input: { name: 'demo', cluster: 'prod-eu' },
        },
      ],
    }),
  },
  {
    description:
      'Delete from a namespace of its own name, waiting at most 5 minutes',
    example: yaml.stringify({
      steps: [
        {
          id: 'kubernetes',
          action: 'mlflow:kubernetes:delete',
          name: 'Delete the tracking server from Kubernetes',
          input: {
            name: 'forecasting',
            cluster: 'prod-eu',
            namespace: 'mlflow-forecasting-prod',
            timeoutSeconds: 300,
          },
        },
      ],
    }),
  },
];
