import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'After an upgrade, wait until the server is healthy and reports the new MLflow version',
    example: yaml.stringify({
      steps: [
        {
          id: 'check',
          action: 'mlflow:instance:checkHealth',
          name: 'Check the upgraded server',
          input: {
            name: 'demo',
            cluster: 'local',
            trackingUrl: 'http://demo.mlflow.localhost',
            healthSecretName: 'demo-mlflow-health',
            expectedVersion: '3.17.2',
          },
        },
      ],
    }),
  },
];
