import { screen, waitFor } from '@testing-library/react';
import { Route, Routes } from 'react-router-dom';
import {
  catalogApiRef,
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { mlflowApiRef } from './api';
import {
  EntityMlflowCard,
  EntityMlflowContent,
  MlflowFleetPage,
  mlflowPlugin,
} from './plugin';
import { fleetRouteRef } from './routes';
import { fakeFleetApi, fleetEntity } from './testUtils/fleet';
import { answering, fakeMlflowApi } from './testUtils/fakes';
import { healthyReport, mlflowEntity } from './testUtils/reports';

// Each test renders a whole test app: slow on a loaded two-core machine.
jest.setTimeout(30_000);

describe('legacy frontend system exports', () => {
  it('the plugin provides the MLflow API and the fleet route', () => {
    expect(mlflowPlugin.getId()).toBe('mlflow');
    expect(mlflowPlugin.routes).toEqual({ fleet: fleetRouteRef });
    expect([...mlflowPlugin.getApis()].map(factory => factory.api)).toEqual([
      mlflowApiRef,
    ]);
  });

  it('EntityMlflowCard renders in a legacy app', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[[mlflowApiRef, fakeMlflowApi(answering(healthyReport))]]}
      >
        <EntityProvider entity={mlflowEntity}>
          <EntityMlflowCard />
        </EntityProvider>
      </TestApiProvider>,
    );
    await waitFor(() =>
      expect(
        screen.getByRole('status', { name: 'Overall status' }),
      ).toHaveTextContent('Healthy'),
    );
  });

  it('EntityMlflowContent renders in a legacy app', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[[mlflowApiRef, fakeMlflowApi(answering(healthyReport))]]}
      >
        <EntityProvider entity={mlflowEntity}>
          <EntityMlflowContent />
        </EntityProvider>
      </TestApiProvider>,
      {
        mountedRoutes: {
          '/catalog/:namespace/:kind/:name': entityRouteRef,
        },
      },
    );
    expect(
      await screen.findByText('Database (Amazon RDS)'),
    ).toBeInTheDocument();
  });

  it('MlflowFleetPage renders the fleet under its own header', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [
            catalogApiRef,
            catalogApiMock({ entities: [fleetEntity('mlflow-a')] }),
          ],
          [mlflowApiRef, fakeFleetApi()],
        ]}
      >
        <Routes>
          <Route path="/mlflow" element={<MlflowFleetPage />} />
        </Routes>
      </TestApiProvider>,
      {
        routeEntries: ['/mlflow'],
        mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef },
      },
    );
    expect(
      screen.getByRole('heading', { name: 'MLflow fleet' }),
    ).toBeInTheDocument();
    expect(
      await screen.findByRole('link', { name: 'mlflow-a' }),
    ).toHaveAttribute('href', '/catalog/default/component/mlflow-a');
  });
});
