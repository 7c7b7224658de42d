import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      "Snapshot an instance's PostgreSQL before an upgrade and wait until it is available",
    example: yaml.stringify({
      steps: [
        {
          id: 'snapshot',
          action: 'mlflow:rds:snapshot',
          name: 'Snapshot the database',
          input: { name: 'demo', region: 'eu-west-1', purpose: 'pre-upgrade' },
        },
      ],
    }),
  },
];
