import { act, screen, within } from '@testing-library/react';
import { Entity } from '@backstage/catalog-model';
import {
  renderInTestApp,
  TestApiProvider,
} from '@backstage/frontend-test-utils';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowApi, mlflowApiRef } from '../../api';
import {
  answering,
  deferred,
  fakeMlflowApi,
  responseError,
} from '../../testUtils/fakes';
import {
  FIXTURE_NOW,
  healthyReport,
  mlflowEntity,
  plainEntity,
  unhealthyReport,
  unknownReport,
} from '../../testUtils/reports';
import { EntityMlflowContent } from './EntityMlflowContent';

/** Renders the tab and lets the fake API's answer land inside act(). */
async function renderContent(api: MlflowApi, entity: Entity = mlflowEntity) {
  await act(async () => {
    renderInTestApp(
      <TestApiProvider apis={[[mlflowApiRef, api]]}>
        <EntityProvider entity={entity}>
          <EntityMlflowContent />
        </EntityProvider>
      </TestApiProvider>,
      {
        mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef },
      },
    );
  });
}

/** The card with the given title. */
function cardOf(title: string): HTMLElement {
  return screen.getByText(title).closest('.MuiCard-root') as HTMLElement;
}

/** The rows of a StructuredMetadataTable inside the card with the given title, as "key: value". */
function cardRows(title: string): string[] {
  return within(cardOf(title))
    .getAllByRole('row')
    .map(row =>
      within(row)
        .getAllByRole('cell')
        .map(cell => cell.textContent)
        .join(': '),
    );
}

// Each test renders a whole test app: slow on a loaded two-core machine.
jest.setTimeout(30_000);

describe('EntityMlflowContent', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: FIXTURE_NOW });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('shows the backing stores, the compliance checklist and the rollout in detail', async () => {
    await renderContent(fakeMlflowApi(answering(healthyReport)));

    expect(
      await screen.findByRole('status', { name: 'Overall status' }),
    ).toHaveTextContent('Healthy');
    expect(cardRows('Database (Amazon RDS)')).toEqual([
      'Instance: mlflow-demo-db',
      'Status: available',
      'Engine: postgres 16.4',
      'Instance class: db.t4g.micro',
      'Storage: 20 GiB',
      'Endpoint: mlflow-demo-db.abc123.eu-west-1.rds.amazonaws.com:5432',
      'Multi-AZ: Yes',
      'Backups: Kept 7 days',
      'Region: eu-west-1',
    ]);
    expect(cardRows('Artifact store (Amazon S3)')).toEqual([
      'Bucket: mlflow-demo-artifacts',
      'Prefix: mlflow',
      'Region: eu-west-1',
      'Versioning: Enabled',
      'Encryption: aws:kms',
    ]);

    expect(screen.getByText('8 of 8 required points pass')).toBeInTheDocument();
    const databaseFlags = screen.getByRole('list', { name: 'Database' });
    expect(
      within(databaseFlags)
        .getAllByRole('listitem')
        .map(item => item.textContent),
    ).toEqual([
      'PassedStorage encrypted',
      'PassedNot publicly accessible',
      'PassedAutomated backups',
      'PassedDeletion protection',
    ]);
    const storeFlags = screen.getByRole('list', { name: 'Artifact store' });
    expect(
      within(storeFlags)
        .getAllByRole('listitem')
        .map(item => item.textContent),
    ).toEqual([
      'PassedVersioning enabled',
      'PassedDefault encryption',
      'PassedPublic access blocked',
      'PassedTLS-only bucket policy',
    ]);

    const conditions = screen.getByRole('table', {
      name: 'Deployment conditions',
    });
    expect(within(conditions).getAllByRole('row')).toHaveLength(3);
    expect(conditions).toHaveTextContent('MinimumReplicasAvailable');
    expect(
      screen.getByText('2/2 ready, 2 updated, 2 available'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('ghcr.io/mlflow/mlflow:v3.1.0'),
    ).toBeInTheDocument();
  });

  it('links the MLflow UI, the console pages in the right region, the Kubernetes tab and the backend links once', async () => {
    await renderContent(fakeMlflowApi(answering(healthyReport)));

    const links = within(
      await screen.findByRole('list', { name: 'MLflow links' }),
    ).getAllByRole('link');
    expect(
      links.map(link => [link.textContent, link.getAttribute('href')]),
    ).toEqual([
      ['MLflow UI, Opens in a new window', 'https://mlflow-demo.example.com'],
      [
        'RDS instance mlflow-demo-db (AWS console), Opens in a new window',
        'https://eu-west-1.console.aws.amazon.com/rds/home?region=eu-west-1#database:id=mlflow-demo-db',
      ],
      [
        'S3 bucket mlflow-demo-artifacts (AWS console), Opens in a new window',
        'https://eu-west-1.console.aws.amazon.com/s3/buckets/mlflow-demo-artifacts?region=eu-west-1',
      ],
      ['Kubernetes', '/catalog/default/component/mlflow-demo/kubernetes'],
      [
        'Runbook, Opens in a new window',
        'https://wiki.example.com/mlflow-runbook',
      ],
    ]);
  });

  it('marks failed compliance points, and the ones not required apart', async () => {
    const report: MlflowHealthReport = {
      ...unhealthyReport,
      checks: unhealthyReport.checks.map(check =>
        check.id === 'database' && check.details
          ? {
              ...check,
              details: {
                ...check.details,
                compliance: [
                  ...check.details.compliance.map(flag =>
                    flag.id === 'deletionProtection'
                      ? { ...flag, ok: false }
                      : flag,
                  ),
                  {
                    id: 'multiAz',
                    label: 'Multi-AZ',
                    ok: false,
                    required: false,
                  },
                ],
              },
            }
          : check,
      ),
    };
    await renderContent(fakeMlflowApi(answering(report)));

    expect(
      await screen.findByText('7 of 8 required points pass'),
    ).toBeInTheDocument();
    const flags = screen.getByRole('list', { name: 'Database' });
    expect(
      within(flags).getByRole('img', { name: 'Failed' }).closest('li'),
    ).toHaveTextContent('Deletion protection');
    expect(
      within(flags)
        .getByRole('img', { name: 'Off, not required' })
        .closest('li'),
    ).toHaveTextContent('Multi-AZNot required for this instance');
  });

  it('shows how to sign in and the tracking server compliance points, failed ones marked', async () => {
    const report: MlflowHealthReport = {
      ...healthyReport,
      overall: 'degraded',
      checks: healthyReport.checks.map(check =>
        check.id === 'trackingServer' && check.details
          ? {
              ...check,
              status: 'warning',
              details: {
                ...check.details,
                authMode: 'anonymous',
                compliance: [
                  {
                    id: 'authentication',
                    label: 'Authentication required',
                    ok: false,
                    required: true,
                  },
                  {
                    id: 'https',
                    label: 'HTTPS tracking URL (plain HTTP only on localhost)',
                    ok: true,
                    required: true,
                  },
                ],
              },
            }
          : check,
      ),
    };
    await renderContent(fakeMlflowApi(answering(report)), {
      ...mlflowEntity,
      metadata: {
        ...mlflowEntity.metadata,
        annotations: {
          ...mlflowEntity.metadata.annotations,
          'mlflow.org/auth-mode': 'anonymous',
        },
      },
    });

    const flags = await screen.findByRole('list', { name: 'Tracking server' });
    expect(
      within(flags).getByRole('img', { name: 'Failed' }).closest('li'),
    ).toHaveTextContent('Authentication required');
    expect(
      within(flags).getByRole('img', { name: 'Passed' }).closest('li'),
    ).toHaveTextContent('HTTPS tracking URL');
    expect(within(cardOf('Sign in')).getByRole('alert')).toHaveTextContent(
      'Authentication is off',
    );
  });

  it('links the Kubernetes tab of adopted instances, found by label selector', async () => {
    const annotations = { ...mlflowEntity.metadata.annotations };
    delete annotations['backstage.io/kubernetes-id'];
    const adopted: Entity = {
      ...mlflowEntity,
      metadata: {
        ...mlflowEntity.metadata,
        annotations: {
          ...annotations,
          'backstage.io/kubernetes-label-selector':
            'app.kubernetes.io/name=mlflow',
        },
      },
    };
    await renderContent(fakeMlflowApi(answering(healthyReport)), adopted);

    expect(
      await screen.findByRole('link', { name: 'Kubernetes' }),
    ).toHaveAttribute(
      'href',
      '/catalog/default/component/mlflow-demo/kubernetes',
    );
  });

  it('has no Kubernetes link when the core Kubernetes tab would not show', async () => {
    const annotations = { ...mlflowEntity.metadata.annotations };
    delete annotations['backstage.io/kubernetes-id'];
    await renderContent(fakeMlflowApi(answering(healthyReport)), {
      ...mlflowEntity,
      metadata: { ...mlflowEntity.metadata, annotations },
    });

    expect(
      await screen.findByRole('list', { name: 'MLflow links' }),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('link', { name: 'Kubernetes' }),
    ).not.toBeInTheDocument();
  });

  it('says why a check has no details instead of leaving a blank card', async () => {
    await renderContent(fakeMlflowApi(answering(unknownReport)));

    expect(
      await screen.findByText('Not known: the store checks could not run'),
    ).toBeInTheDocument();
    expect(
      within(cardOf('Kubernetes rollout')).getByText(
        'Cluster local is not configured',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getAllByText('No details: the check could not run.'),
    ).toHaveLength(3);
  });

  it('shows progress while loading', async () => {
    await renderContent(
      fakeMlflowApi(() => deferred<MlflowHealthReport>().promise),
    );
    expect(
      await screen.findByRole('progressbar', { name: 'Loading' }),
    ).toBeInTheDocument();
  });

  it('says what failed and still offers the links from the annotations', async () => {
    const error = await responseError(404, 'NotFoundError', 'No such entity');
    await renderContent(fakeMlflowApi(() => Promise.reject(error)));

    expect(
      await screen.findByText('Error: Entity not found, or you may not see it'),
    ).toBeInTheDocument();
    expect(screen.getByRole('link', { name: /^MLflow UI/ })).toHaveAttribute(
      'href',
      'https://mlflow-demo.example.com',
    );
    expect(screen.queryByText('Database (Amazon RDS)')).not.toBeInTheDocument();
  });

  it('explains the missing annotation', async () => {
    const api = fakeMlflowApi(answering(healthyReport));
    await renderContent(api, plainEntity);

    expect(await screen.findByText('Missing Annotation')).toBeInTheDocument();
    expect(screen.getByText('mlflow.org/tracking-url')).toBeInTheDocument();
    expect(api.getHealth).not.toHaveBeenCalled();
  });
});
