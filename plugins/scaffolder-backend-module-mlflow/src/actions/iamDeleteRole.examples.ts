import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: "Delete the tracking server's IAM role of an instance",
    example: yaml.stringify({
      steps: [
        {
          id: 'role',
          action: 'mlflow:iam:deleteRole',
          name: 'Delete the IAM role of the tracking server',
          input: { name: 'demo', region: 'eu-west-1' },
        },
      ],
    }),
  },
  {
    description:
      'Delete a role with a chosen name in another configured account',
    example: yaml.stringify({
      steps: [
        {
          id: 'role',
          action: 'mlflow:iam:deleteRole',
          name: 'Delete the IAM role of the tracking server',
          input: {
            name: 'forecasting',
            region: 'eu-west-1',
            accountId: '123456789012',
            roleName: 'mlflow-forecasting-server',
          },
        },
      ],
    }),
  },
];
