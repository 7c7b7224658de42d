import { screen, waitFor } from '@testing-library/react';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { mlflowApiRef } from './api';
import { EntityMlflowCard, EntityMlflowContent, mlflowPlugin } from './plugin';
import { answering, fakeMlflowApi } from './testUtils/fakes';
import { healthyReport, mlflowEntity } from './testUtils/reports';

// Each test renders a whole test app: slow on a loaded two-core machine.
jest.setTimeout(30_000);

describe('legacy frontend system exports', () => {
  it('the plugin provides the MLflow API', () => {
    expect(mlflowPlugin.getId()).toBe('mlflow');
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
});
