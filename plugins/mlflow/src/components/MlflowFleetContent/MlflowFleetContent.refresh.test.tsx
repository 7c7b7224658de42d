import { act, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Entity } from '@backstage/catalog-model';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { deferred } from '../../testUtils/fakes';
import {
  fakeFleetApi,
  fleetEntity,
  refOf,
  reportOf,
} from '../../testUtils/fleet';
import { unhealthyReport } from '../../testUtils/reports';
import { renderFleet, rowOf, waitForLoaded } from './__testUtils__/renderFleet';

// Each test renders a whole test app: slow on a loaded two-core machine.
jest.setTimeout(60_000);

describe('MlflowFleetContent', () => {
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
