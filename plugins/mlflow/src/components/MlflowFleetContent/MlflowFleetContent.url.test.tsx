import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  fakeFleetApi,
  fleetEntity,
  refOf,
  reportOf,
} from '../../testUtils/fleet';
import { unhealthyReport } from '../../testUtils/reports';
import {
  renderFleet,
  summary,
  tableRows,
  urlQuery,
  waitForLoaded,
} from './__testUtils__/renderFleet';

// Each test renders a whole test app: slow on a loaded two-core machine.
jest.setTimeout(60_000);

describe('MlflowFleetContent', () => {
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
});
