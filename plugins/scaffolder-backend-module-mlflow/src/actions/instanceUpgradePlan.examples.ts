import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Plan the upgrade of an instance to a newer MLflow image and three replicas',
    example: yaml.stringify({
      steps: [
        {
          id: 'plan',
          action: 'mlflow:instance:planUpgrade',
          name: 'Plan the upgrade',
          input: {
            name: 'demo',
            cluster: 'local',
            image: 'ghcr.io/acme/mlflow:v3.17.2',
            replicas: 3,
          },
        },
      ],
    }),
  },
];
