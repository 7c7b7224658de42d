import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      "Move an instance's PostgreSQL to a larger class in the next maintenance window",
    example: yaml.stringify({
      steps: [
        {
          id: 'rds',
          action: 'mlflow:rds:modify',
          name: 'Change the database',
          input: {
            name: 'demo',
            region: 'eu-west-1',
            instanceClass: 'db.t4g.small',
          },
        },
      ],
    }),
  },
  {
    description:
      'Keep backups for 14 days and grow the storage to 50 GiB now, waiting until RDS has applied it',
    example: yaml.stringify({
      steps: [
        {
          id: 'rds',
          action: 'mlflow:rds:modify',
          name: 'Change the database now',
          input: {
            name: 'demo',
            region: 'eu-west-1',
            backupRetentionDays: 14,
            allocatedStorageGiB: 50,
            applyImmediately: true,
          },
        },
      ],
    }),
  },
];
