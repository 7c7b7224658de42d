import {
  getMlflowEntityInfo,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';
import { healthyReport, mlflowEntity } from '../../testUtils/reports';
import { buildMlflowLinks } from './buildMlflowLinks';

const info = getMlflowEntityInfo(mlflowEntity);

describe('buildMlflowLinks', () => {
  it('links the MLflow UI, the AWS console pages in the right region and the Kubernetes tab', () => {
    expect(
      buildMlflowLinks({
        info,
        kubernetesTabPath: '/catalog/default/component/mlflow-demo/kubernetes',
      }),
    ).toEqual([
      { title: 'MLflow UI', url: 'https://mlflow-demo.example.com' },
      {
        title: 'RDS instance mlflow-demo-db (AWS console)',
        url: 'https://eu-west-1.console.aws.amazon.com/rds/home?region=eu-west-1#database:id=mlflow-demo-db',
      },
      {
        title: 'S3 bucket mlflow-demo-artifacts (AWS console)',
        url: 'https://eu-west-1.console.aws.amazon.com/s3/buckets/mlflow-demo-artifacts?region=eu-west-1',
      },
      {
        title: 'Kubernetes',
        url: '/catalog/default/component/mlflow-demo/kubernetes',
      },
    ]);
  });

  it('prefers the regions the backend saw and adds its links once', () => {
    const report: MlflowHealthReport = {
      ...healthyReport,
      checks: healthyReport.checks.map(check =>
        check.id === 'database' && check.details
          ? { ...check, details: { ...check.details, region: 'us-east-2' } }
          : check,
      ),
      links: [
        { title: 'MLflow', url: 'https://mlflow-demo.example.com/' },
        {
          title: 'S3 bucket (AWS console)',
          url: 'https://s3.console.aws.amazon.com/s3/buckets/mlflow-demo-artifacts?region=eu-west-1',
        },
        { title: 'Runbook', url: 'https://wiki.example.com/mlflow-runbook' },
      ],
    };

    const links = buildMlflowLinks({ info, report });
    expect(links.map(link => link.url)).toEqual([
      'https://mlflow-demo.example.com',
      'https://us-east-2.console.aws.amazon.com/rds/home?region=us-east-2#database:id=mlflow-demo-db',
      'https://eu-west-1.console.aws.amazon.com/s3/buckets/mlflow-demo-artifacts?region=eu-west-1',
      'https://wiki.example.com/mlflow-runbook',
    ]);
  });

  it('leaves out the console pages when the region is unknown', () => {
    expect(
      buildMlflowLinks({
        info: { trackingUrl: 'https://mlflow.example.com', bucket: 'b' },
      }),
    ).toEqual([{ title: 'MLflow UI', url: 'https://mlflow.example.com' }]);
  });
});
