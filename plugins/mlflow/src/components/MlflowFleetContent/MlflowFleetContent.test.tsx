import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Entity } from '@backstage/catalog-model';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { deferred } from '../../testUtils/fakes';
import {
  fakeFleetApi,
  fleetEntities,
  fleetEntity,
  refOf,
  reportOf,
} from '../../testUtils/fleet';
import {
  renderFleet,
  rowOf,
  summary,
  tableRows,
  urlQuery,
  waitForLoaded,
} from './__testUtils__/renderFleet';

// Each test renders a whole test app: slow on a loaded two-core machine.
jest.setTimeout(60_000);

describe('MlflowFleetContent', () => {
  it('shows progress while the catalog lists the instances', async () => {
    const listing = deferred<{ items: Entity[] }>();
    const catalogApi = catalogApiMock.mock({
      getEntities: jest.fn(() => listing.promise),
    });
    await renderFleet({ catalogApi, mlflowApi: fakeFleetApi() });
    expect(await screen.findByTestId('progress')).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    await act(async () => listing.resolve({ items: [] }));
    expect(
      await screen.findByText('No MLflow instances to show'),
    ).toBeInTheDocument();
  });

  it('lists only entities with the tracking URL annotation and asks for their reports', async () => {
    const catalogApi = catalogApiMock.mock({
      getEntities: jest.fn(async () => ({ items: [fleetEntity('mlflow-a')] })),
    });
    const mlflowApi = fakeFleetApi();
    await renderFleet({ catalogApi, mlflowApi });
    await waitForLoaded();
    expect(catalogApi.getEntities).toHaveBeenCalledWith(
      expect.objectContaining({
        filter: expect.objectContaining({
          kind: 'component',
          'metadata.annotations.mlflow.org/tracking-url': expect.any(Symbol),
        }),
      }),
    );
    expect(mlflowApi.getFleetHealth).toHaveBeenCalledWith(
      ['component:default/mlflow-a'],
      expect.objectContaining({ refresh: false }),
    );
  });

  it('shows one row per instance with its facts and links', async () => {
    const entity = fleetEntity('mlflow-a', {
      owner: 'group:default/team-ml',
      environment: 'staging',
    });
    await renderFleet({ entities: [entity], mlflowApi: fakeFleetApi() });
    await waitForLoaded();

    const row = rowOf('mlflow-a');
    const cells = within(row)
      .getAllByRole('cell')
      .map(cell => cell.textContent);
    expect(cells).toEqual([
      'mlflow-a',
      'Healthy',
      'OKOKOKOK',
      '3.1.0',
      'staging',
      'team-ml',
      'eu-west-1',
      'local',
      '2/2',
      'unknown',
      'none',
      '—',
      'Open MLflow, Opens in a new window',
    ]);
    expect(
      within(row).getByRole('img', { name: 'Tracking server: ok' }),
    ).toBeInTheDocument();
    expect(within(row).getByRole('link', { name: 'mlflow-a' })).toHaveAttribute(
      'href',
      '/catalog/default/component/mlflow-a',
    );
    expect(
      within(row).getByRole('link', { name: /^Open MLflow/ }),
    ).toHaveAttribute('href', 'https://mlflow-a.example.com');
    expect(summary()).toHaveTextContent('1 instance: 1 healthy');
    expect(within(row).getByRole('link', { name: 'team-ml' })).toHaveAttribute(
      'href',
      '/catalog/default/group/team-ml',
    );
  });

  it('links a bare owner name as a group', async () => {
    await renderFleet({
      entities: [fleetEntity('mlflow-a', { owner: 'team-bare' })],
      mlflowApi: fakeFleetApi(),
    });
    await waitForLoaded();
    expect(
      within(rowOf('mlflow-a')).getByRole('link', { name: 'team-bare' }),
    ).toHaveAttribute('href', '/catalog/default/group/team-bare');
  });

  it('says so when there is no instance', async () => {
    await renderFleet({ entities: [], mlflowApi: fakeFleetApi() });
    expect(
      await screen.findByText('No MLflow instances to show'),
    ).toBeInTheDocument();
  });

  it('shows the error when the catalog cannot list the instances', async () => {
    const catalogApi = catalogApiMock.mock({
      getEntities: jest.fn(async () => {
        throw new Error('catalog is down');
      }),
    });
    await renderFleet({ catalogApi, mlflowApi: fakeFleetApi() });
    expect(
      await screen.findByText(
        'Error: Could not list the MLflow instances from the catalog',
      ),
    ).toBeInTheDocument();
    expect(screen.getAllByText(/catalog is down/).length).toBeGreaterThan(0);
  });

  it('shows the error when no report could be loaded at all', async () => {
    const mlflowApi = fakeFleetApi();
    mlflowApi.getFleetHealth.mockRejectedValue(new Error('backend is down'));
    await renderFleet({ entities: fleetEntities(3), mlflowApi });
    expect(
      await screen.findByText(
        'Error: Could not load the health of the MLflow instances',
      ),
    ).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('shows the instances of the batches that answered and says how many failed', async () => {
    const entities = fleetEntities(120);
    const mlflowApi = fakeFleetApi();
    const answer = mlflowApi.getFleetHealth.getMockImplementation()!;
    mlflowApi.getFleetHealth.mockImplementation(async (refs, options) => {
      if (refs.includes('component:default/mlflow-060')) {
        throw new Error('504 Gateway Timeout');
      }
      return answer(refs, options);
    });
    await renderFleet({ entities, mlflowApi });
    await waitForLoaded();

    expect(
      screen.getByText(
        'The health of 50 instances could not be loaded: 504 Gateway Timeout',
      ),
    ).toBeInTheDocument();
    expect(summary()).toHaveTextContent('70 instances: 70 healthy');

    mlflowApi.getFleetHealth.mockImplementation(answer);
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() =>
      expect(summary()).toHaveTextContent('120 instances: 120 healthy'),
    );
    expect(screen.queryByText(/could not be loaded/)).not.toBeInTheDocument();
  });

  it('leaves out instances the user may not read, and marks reports the backend could not make', async () => {
    const [visible, forbidden, broken] = [
      'mlflow-a',
      'mlflow-b',
      'mlflow-c',
    ].map(name => fleetEntity(name));
    const mlflowApi = fakeFleetApi(ref => {
      if (ref === refOf(forbidden)) {
        return {
          entityRef: ref,
          error: { name: 'NotAllowedError', message: 'not allowed' },
        };
      }
      if (ref === refOf(broken)) {
        return {
          entityRef: ref,
          error: { name: 'Error', message: 'checks timed out' },
        };
      }
      return { entityRef: ref, report: reportOf(ref) };
    });
    await renderFleet({
      entities: [visible, forbidden, broken],
      mlflowApi,
    });
    await waitForLoaded();

    expect(tableRows()).toHaveLength(2);
    expect(screen.queryByText('mlflow-b')).not.toBeInTheDocument();
    expect(summary()).toHaveTextContent('2 instances: 1 unknown, 1 healthy');
    expect(
      within(rowOf('mlflow-c')).getByText('No report: checks timed out'),
    ).toBeInTheDocument();
  });

  it('loads 500 instances in batches of 50 and pages them', async () => {
    const mlflowApi = fakeFleetApi();
    await renderFleet({ entities: fleetEntities(500), mlflowApi });
    await waitForLoaded();

    expect(mlflowApi.getFleetHealth).toHaveBeenCalledTimes(10);
    for (const [refs] of mlflowApi.getFleetHealth.mock.calls) {
      expect(refs).toHaveLength(50);
    }
    expect(summary()).toHaveTextContent('500 instances: 500 healthy');
    expect(tableRows()).toHaveLength(50);
    expect(screen.getByText('1-50 of 500')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    expect(screen.getByText('51-100 of 500')).toBeInTheDocument();
    expect(rowOf('mlflow-050')).toHaveTextContent('Healthy');
    expect(urlQuery()).toHaveTextContent('?page=2');
  });
});
