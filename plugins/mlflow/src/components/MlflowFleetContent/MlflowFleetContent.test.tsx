import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useLocation } from 'react-router-dom';
import { Entity } from '@backstage/catalog-model';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import {
  CatalogApi,
  catalogApiRef,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { MlflowApi, mlflowApiRef } from '../../api';
import { deferred } from '../../testUtils/fakes';
import {
  fakeFleetApi,
  fleetEntities,
  fleetEntity,
  refOf,
  reportOf,
} from '../../testUtils/fleet';
import { unhealthyReport } from '../../testUtils/reports';
import { MlflowFleetContent } from './MlflowFleetContent';

// Each test renders a whole test app: slow on a loaded two-core machine.
jest.setTimeout(60_000);

/** Shows the current query string, to check what the page writes into the URL. */
function LocationProbe() {
  return <output aria-label="URL query">{useLocation().search}</output>;
}

async function renderFleet(options: {
  catalogApi?: CatalogApi;
  entities?: Entity[];
  mlflowApi: MlflowApi;
  query?: string;
}) {
  const catalogApi =
    options.catalogApi ?? catalogApiMock({ entities: options.entities ?? [] });
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [catalogApiRef, catalogApi],
        [mlflowApiRef, options.mlflowApi],
      ]}
    >
      <MlflowFleetContent />
      <LocationProbe />
    </TestApiProvider>,
    {
      routeEntries: [`/mlflow${options.query ?? ''}`],
      mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef },
    },
  );
}

const summary = () => screen.getByRole('status', { name: 'Fleet summary' });
const tableRows = () =>
  within(screen.getByRole('table', { name: 'MLflow instances' }))
    .getAllByRole('row')
    .slice(1);
const rowOf = (name: string) => {
  const row = tableRows().find(
    r => r.getAttribute('data-entity-ref') === `component:default/${name}`,
  );
  if (!row) {
    throw new Error(`No row for ${name}`);
  }
  return row;
};
const urlQuery = () => screen.getByRole('status', { name: 'URL query' });

async function waitForLoaded() {
  await waitFor(() =>
    expect(
      screen.getByRole('region', { name: 'MLflow fleet' }),
    ).toHaveAttribute('aria-busy', 'false'),
  );
}

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

  it('restores the view from the URL', async () => {
    const entities = ['mlflow-a', 'mlflow-b', 'mlflow-c'].map(n =>
      fleetEntity(n),
    );
    const mlflowApi = fakeFleetApi(ref => ({
      entityRef: ref,
      report: reportOf(
        ref,
        ref === refOf(entities[1]) ? unhealthyReport : undefined,
      ),
    }));
    await renderFleet({ entities, mlflowApi, query: '?status=unhealthy' });
    await waitForLoaded();

    expect(tableRows().map(r => r.getAttribute('data-entity-ref'))).toEqual([
      'component:default/mlflow-b',
    ]);
    expect(summary()).toHaveTextContent(
      '1 of 3 instances: 1 unhealthy, 2 healthy',
    );
  });

  it('writes filters, search and sorting into the URL', async () => {
    const entities = [
      fleetEntity('mlflow-a', {
        owner: 'group:default/team-a',
        environment: 'dev',
      }),
      fleetEntity('mlflow-b', { owner: 'group:default/team-b' }),
    ];
    await renderFleet({ entities, mlflowApi: fakeFleetApi() });
    await waitForLoaded();

    await userEvent.click(screen.getByRole('button', { name: 'Owner All' }));
    await userEvent.click(
      await screen.findByRole('option', { name: 'group:default/team-b' }),
    );
    await waitFor(() =>
      expect(urlQuery()).toHaveTextContent('?owner=group%3Adefault%2Fteam-b'),
    );
    expect(tableRows()).toHaveLength(1);

    await userEvent.click(
      screen.getByRole('button', { name: 'Owner group:default/team-b' }),
    );
    await userEvent.click(await screen.findByRole('option', { name: 'All' }));
    await userEvent.type(
      screen.getByRole('textbox', { name: 'Search instances' }),
      'dev',
    );
    expect(urlQuery()).toHaveTextContent('?q=dev');
    expect(tableRows().map(r => r.getAttribute('data-entity-ref'))).toEqual([
      'component:default/mlflow-a',
    ]);

    await userEvent.clear(
      screen.getByRole('textbox', { name: 'Search instances' }),
    );
    await userEvent.click(screen.getByRole('button', { name: 'Instance' }));
    await userEvent.click(screen.getByRole('button', { name: 'Instance' }));
    expect(urlQuery()).toHaveTextContent('?sort=name&order=desc');
    expect(tableRows().map(r => r.getAttribute('data-entity-ref'))).toEqual([
      'component:default/mlflow-b',
      'component:default/mlflow-a',
    ]);

    await userEvent.click(
      screen.getByRole('checkbox', { name: 'Failing compliance' }),
    );
    expect(urlQuery()).toHaveTextContent('compliance=failing');
    expect(
      screen.getByText('No instance matches these filters.'),
    ).toBeInTheDocument();
    await userEvent.click(
      screen.getByRole('button', { name: 'Clear filters' }),
    );
    expect(tableRows()).toHaveLength(2);
    expect(urlQuery()).toBeEmptyDOMElement();
  });

  it('says which URL parameters it ignored', async () => {
    await renderFleet({
      entities: [fleetEntity('mlflow-a')],
      mlflowApi: fakeFleetApi(),
      query: '?status=sick',
    });
    expect(
      await screen.findByText(
        'Ignored status="sick": accepted healthy, degraded, unhealthy, unknown.',
      ),
    ).toBeInTheDocument();
  });

  it('refreshes without reloading: asks for fresh checks and keeps rows until they answer', async () => {
    const entity = fleetEntity('mlflow-a');
    let report = reportOf(refOf(entity));
    const mlflowApi = fakeFleetApi(ref => ({ entityRef: ref, report }));
    await renderFleet({ entities: [entity], mlflowApi });
    await waitForLoaded();
    expect(rowOf('mlflow-a')).toHaveTextContent('Healthy');

    const answer = deferred<void>();
    const fleet = mlflowApi.getFleetHealth.getMockImplementation()!;
    mlflowApi.getFleetHealth.mockImplementation(async (refs, options) => {
      await answer.promise;
      return fleet(refs, options);
    });
    report = reportOf(refOf(entity), unhealthyReport);
    await userEvent.click(
      screen.getByRole('button', { name: 'Refresh health' }),
    );

    expect(screen.getByRole('button', { name: 'Checking…' })).toBeDisabled();
    expect(rowOf('mlflow-a')).toHaveTextContent('Healthy');
    await act(async () => answer.resolve());
    await waitForLoaded();
    expect(rowOf('mlflow-a')).toHaveTextContent('Unhealthy');
    expect(mlflowApi.getFleetHealth).toHaveBeenLastCalledWith(
      ['component:default/mlflow-a'],
      expect.objectContaining({ refresh: true }),
    );
  });

  it('shows the last rows at once when the page opens again, while they reload', async () => {
    const entity = fleetEntity('mlflow-a');
    const mlflowApi = fakeFleetApi();
    const first = await renderFleet({ entities: [entity], mlflowApi });
    await waitForLoaded();
    first.unmount();

    const listing = deferred<{ items: Entity[] }>();
    const catalogApi = catalogApiMock.mock({
      getEntities: jest.fn(() => listing.promise),
    });
    await renderFleet({ catalogApi, mlflowApi });
    expect(rowOf('mlflow-a')).toHaveTextContent('Healthy');
    expect(
      screen.getByRole('region', { name: 'MLflow fleet' }),
    ).toHaveAttribute('aria-busy', 'true');
    await act(async () => listing.resolve({ items: [entity] }));
    await waitForLoaded();
  });
});
