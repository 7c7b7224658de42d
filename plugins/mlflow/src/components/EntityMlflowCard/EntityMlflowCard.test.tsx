import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Entity } from '@backstage/catalog-model';
import {
  renderInTestApp,
  TestApiProvider,
} from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { lightTheme } from '@backstage/theme';
import { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowApi, mlflowApiRef, MlflowRequestTimeoutError } from '../../api';
import {
  answering,
  deferred,
  fakeMlflowApi,
  responseError,
} from '../../testUtils/fakes';
import {
  degradedReport,
  FIXTURE_NOW,
  healthyReport,
  mlflowEntity,
  plainEntity,
  unhealthyReport,
  unknownReport,
} from '../../testUtils/reports';
import { EntityMlflowCard } from './EntityMlflowCard';

/** Renders the card and lets the fake API's answer land inside act(). */
async function renderCard(api: MlflowApi, entity: Entity = mlflowEntity) {
  await act(async () => {
    renderInTestApp(
      <TestApiProvider apis={[[mlflowApiRef, api]]}>
        <EntityProvider entity={entity}>
          <EntityMlflowCard />
        </EntityProvider>
      </TestApiProvider>,
    );
  });
}

async function findOverallStatus() {
  return screen.findByRole('status', { name: 'Overall status' });
}

function checkRows() {
  return within(
    screen.getByRole('list', { name: 'Health checks' }),
  ).getAllByRole('listitem');
}

// Each test renders a whole test app: slow on a loaded two-core machine.
jest.setTimeout(30_000);

describe('EntityMlflowCard', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: FIXTURE_NOW });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('links to the upgrade template with the instance filled in', async () => {
    await renderCard(fakeMlflowApi(answering(healthyReport)));
    const link = await screen.findByRole('link', { name: 'Upgrade' });
    const url = new URL(link.getAttribute('href')!, 'http://app');
    expect(url.pathname).toBe('/create/templates/default/mlflow-upgrade');
    expect(JSON.parse(url.searchParams.get('formData')!)).toEqual({
      name: 'mlflow-demo',
      region: 'eu-west-1',
      cluster: 'local',
    });
  });

  it('links to the decommission template with the instance filled in', async () => {
    await renderCard(fakeMlflowApi(answering(healthyReport)));
    const link = await screen.findByRole('link', { name: 'Decommission' });
    const url = new URL(link.getAttribute('href')!, 'http://app');
    expect(url.pathname).toBe('/create/templates/default/mlflow-decommission');
    expect(JSON.parse(url.searchParams.get('formData')!)).toEqual({
      name: 'mlflow-demo',
      region: 'eu-west-1',
      cluster: 'local',
    });
  });

  it("shows the database's pending RDS change and its last snapshot", async () => {
    const withChanges: MlflowHealthReport = {
      ...healthyReport,
      checks: healthyReport.checks.map(check =>
        check.id === 'database' && check.details
          ? {
              ...check,
              details: {
                ...check.details,
                pendingChanges: [
                  {
                    setting: 'instance class',
                    current: 'db.t4g.micro',
                    pending: 'db.t4g.small',
                  },
                ],
                lastSnapshot: {
                  id: 'mlflow-demo-db-pre-upgrade-20261126t043000z',
                  createdAt: '2026-11-26T04:30:00.000Z',
                  type: 'manual',
                  status: 'available',
                },
              },
            }
          : check,
      ),
    };
    await renderCard(fakeMlflowApi(answering(withChanges)));
    await findOverallStatus();
    const changes = screen.getByRole('region', { name: 'Database changes' });
    expect(changes).toHaveTextContent(
      'Pending RDS change (next maintenance window): instance class db.t4g.micro → db.t4g.small',
    );
    expect(changes).toHaveTextContent(
      /Last snapshot: mlflow-demo-db-pre-upgrade-20261126t043000z \(.+, manual\)/,
    );
    expect(changes.querySelector('time')).toHaveAttribute(
      'dateTime',
      '2026-11-26T04:30:00.000Z',
    );
  });

  it('says when the instance has no snapshot, and shows nothing of it for a report without one', async () => {
    const noSnapshot: MlflowHealthReport = {
      ...healthyReport,
      checks: healthyReport.checks.map(check =>
        check.id === 'database' && check.details
          ? { ...check, details: { ...check.details, lastSnapshot: null } }
          : check,
      ),
    };
    await renderCard(fakeMlflowApi(answering(noSnapshot)));
    await findOverallStatus();
    expect(
      screen.getByRole('region', { name: 'Database changes' }),
    ).toHaveTextContent('Last snapshot: none yet');
    expect(screen.queryByText(/Pending RDS change/)).not.toBeInTheDocument();
  });

  it('shows no database changes when the report has neither', async () => {
    await renderCard(fakeMlflowApi(answering(healthyReport)));
    await findOverallStatus();
    expect(
      screen.queryByRole('region', { name: 'Database changes' }),
    ).not.toBeInTheDocument();
  });

  it('shows progress while the first report loads', async () => {
    const api = fakeMlflowApi(() => deferred<MlflowHealthReport>().promise);
    await renderCard(api);

    expect(
      await screen.findByRole('progressbar', { name: 'Loading' }),
    ).toBeInTheDocument();
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
    expect(api.getHealth).toHaveBeenCalledWith(
      'component:default/mlflow-demo',
      expect.objectContaining({ refresh: false }),
    );
  });

  it('names the authentication mode and the admin Secret, never a value', async () => {
    await renderCard(fakeMlflowApi(answering(healthyReport)), {
      ...mlflowEntity,
      metadata: {
        ...mlflowEntity.metadata,
        annotations: {
          ...mlflowEntity.metadata.annotations,
          'mlflow.org/auth-mode': 'basic-auth',
          'mlflow.org/auth-admin-secret': 'mlflow-demo-mlflow-auth',
        },
      },
    });
    await findOverallStatus();
    expect(screen.getByLabelText('Authentication')).toHaveTextContent(
      'Authentication: MLflow users (basic auth) · admin Secret mlflow-demo-mlflow-auth',
    );
  });

  it('shows a healthy instance: word, colour, one row per check, version and age', async () => {
    await renderCard(fakeMlflowApi(answering(healthyReport)));

    const overall = await findOverallStatus();
    expect(overall).toHaveTextContent('Healthy');
    expect(overall.firstElementChild).toHaveStyle({
      backgroundColor: lightTheme.palette.status.ok,
    });
    const rows = checkRows();
    expect(rows.map(row => row.textContent)).toEqual([
      'OKTracking serverMLflow 3.1.0 answers and reads its backend store',
      'OKDatabasepostgres 16.4 db.t4g.micro available',
      'OKArtifact storeBucket mlflow-demo-artifacts reachable, versioned, encrypted',
      'OKKubernetes2/2 replicas ready',
    ]);
    for (const row of rows) {
      expect(within(row).getByRole('img', { name: 'OK' })).toBeInTheDocument();
    }
    expect(screen.getByText('MLflow 3.1.0')).toBeInTheDocument();
    expect(screen.getByText('checked 12 s ago')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: /Open MLflow/ })).toHaveAttribute(
      'href',
      'https://mlflow-demo.example.com',
    );
  });

  it('keeps the age of the report moving', async () => {
    await renderCard(fakeMlflowApi(answering(healthyReport)));
    expect(await screen.findByText('checked 12 s ago')).toBeInTheDocument();

    act(() => {
      jest.advanceTimersByTime(5000);
    });
    expect(screen.getByText('checked 17 s ago')).toBeInTheDocument();
  });

  it('shows a degraded instance in orange with the warning check', async () => {
    await renderCard(fakeMlflowApi(answering(degradedReport)));

    const overall = await findOverallStatus();
    expect(overall).toHaveTextContent('Degraded');
    expect(overall.firstElementChild).toHaveStyle({
      backgroundColor: lightTheme.palette.status.warning,
    });
    const kubernetesRow = checkRows()[3];
    expect(kubernetesRow).toHaveTextContent('1/2 replicas ready');
    expect(
      within(kubernetesRow).getByRole('img', { name: 'Warning' }),
    ).toBeInTheDocument();
  });

  it('shows an unhealthy instance in red with the failing check', async () => {
    await renderCard(fakeMlflowApi(answering(unhealthyReport)));

    const overall = await findOverallStatus();
    expect(overall).toHaveTextContent('Unhealthy');
    expect(overall.firstElementChild).toHaveStyle({
      backgroundColor: lightTheme.palette.status.error,
    });
    const trackingRow = checkRows()[0];
    expect(trackingRow).toHaveTextContent('Connection refused');
    expect(
      within(trackingRow).getByRole('img', { name: 'Error' }),
    ).toBeInTheDocument();
    expect(screen.getByText('MLflow version unknown')).toBeInTheDocument();
  });

  it('shows an instance whose checks could not run as unknown, in grey', async () => {
    await renderCard(fakeMlflowApi(answering(unknownReport)));

    const overall = await findOverallStatus();
    expect(overall).toHaveTextContent('Unknown');
    expect(overall.firstElementChild).toHaveStyle({
      backgroundColor: lightTheme.palette.status.aborted,
    });
    expect(
      checkRows().map(row =>
        within(row).getByRole('img').getAttribute('data-status'),
      ),
    ).toEqual(['unknown', 'unknown', 'unknown', 'unknown']);
  });

  it('explains the missing annotation and asks nothing of the backend', async () => {
    const api = fakeMlflowApi(answering(healthyReport));
    await renderCard(api, plainEntity);

    expect(await screen.findByText('Missing Annotation')).toBeInTheDocument();
    expect(screen.getByText('mlflow.org/tracking-url')).toBeInTheDocument();
    expect(api.getHealth).not.toHaveBeenCalled();
  });

  it('asks to sign in again on 401', async () => {
    const error = await responseError(
      401,
      'AuthenticationError',
      'Missing credentials',
    );
    await renderCard(fakeMlflowApi(() => Promise.reject(error)));

    expect(
      await screen.findByText(
        'Error: You are not signed in or your session has expired: sign in again',
      ),
    ).toBeInTheDocument();
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
  });

  it('says the entity is not found or not visible on 404', async () => {
    const error = await responseError(404, 'NotFoundError', 'No such entity');
    await renderCard(fakeMlflowApi(() => Promise.reject(error)));

    expect(
      await screen.findByText('Error: Entity not found, or you may not see it'),
    ).toBeInTheDocument();
  });

  it('says the check timed out when the client gives up', async () => {
    const error = new MlflowRequestTimeoutError(
      20_000,
      'http://localhost:7007/api/mlflow/v1/health/default/component/mlflow-demo',
    );
    await renderCard(fakeMlflowApi(() => Promise.reject(error)));

    expect(
      await screen.findByText(
        'Error: The health check timed out: no answer from the backend within 20 s',
      ),
    ).toBeInTheDocument();
  });

  it('says the check timed out when the backend answers 504', async () => {
    const error = await responseError(504, 'Error', 'Gateway Timeout');
    await renderCard(fakeMlflowApi(() => Promise.reject(error)));

    expect(
      await screen.findByText(
        'Error: The health check timed out in the backend',
      ),
    ).toBeInTheDocument();
  });

  it('refreshes in place: the report stays while the backend checks again', async () => {
    const fresh = deferred<MlflowHealthReport>();
    const api = fakeMlflowApi(async (_ref, options) =>
      options?.refresh ? fresh.promise : healthyReport,
    );
    const user = userEvent.setup({ advanceTimers: jest.advanceTimersByTime });
    await renderCard(api);
    expect(await findOverallStatus()).toHaveTextContent('Healthy');

    await user.click(screen.getByRole('button', { name: 'Refresh health' }));

    expect(api.getHealth).toHaveBeenLastCalledWith(
      'component:default/mlflow-demo',
      expect.objectContaining({ refresh: true }),
    );
    expect(
      screen.getByRole('status', { name: 'Overall status' }),
    ).toHaveTextContent('Healthy');
    expect(checkRows()).toHaveLength(4);
    expect(
      screen.getByRole('progressbar', { name: 'Checking' }),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Refresh health' }),
    ).toBeDisabled();

    await act(async () => fresh.resolve(unhealthyReport));
    await waitFor(() =>
      expect(
        screen.getByRole('status', { name: 'Overall status' }),
      ).toHaveTextContent('Unhealthy'),
    );
    expect(
      screen.getByRole('button', { name: 'Refresh health' }),
    ).toBeEnabled();
  });

  it('keeps the last report and warns when a refresh is refused', async () => {
    const tooMany = await responseError(
      429,
      'TooManyRequestsError',
      'Refreshed too often',
    );
    const api = fakeMlflowApi(async (_ref, options) => {
      if (options?.refresh) {
        throw tooMany;
      }
      return healthyReport;
    });
    const user = userEvent.setup({ advanceTimers: jest.advanceTimersByTime });
    await renderCard(api);
    expect(await findOverallStatus()).toHaveTextContent('Healthy');

    await user.click(screen.getByRole('button', { name: 'Refresh health' }));

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Refresh failed: Checked too often: wait a moment before refreshing again.',
    );
    expect(
      screen.getByRole('status', { name: 'Overall status' }),
    ).toHaveTextContent('Healthy');
  });
});
