import { act, screen } from '@testing-library/react';
import { renderTestApp } from '@backstage/frontend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { MlflowApi, mlflowApiRef } from '@stateful-mlflow/plugin-mlflow';
import mlflowPlugin from '@stateful-mlflow/plugin-mlflow/alpha';

const mlflowInstance = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'mlflow-demo',
    namespace: 'default',
    annotations: { 'mlflow.org/tracking-url': 'https://mlflow.example.com' },
  },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-ml' },
};

const otherService = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'billing', namespace: 'default' },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-billing' },
};

const mlflowApi: MlflowApi = {
  getHealth: async () => ({
    entityRef: 'component:default/mlflow-demo',
    overall: 'healthy',
    checkedAt: new Date().toISOString(),
    checks: [],
    links: [],
  }),
  getFleetHealth: async () => ({ items: [] }),
};

async function openEntityPage(path: string) {
  await act(async () => {
    renderTestApp({
      features: [catalogPlugin, mlflowPlugin],
      apis: [
        catalogApiMock({ entities: [mlflowInstance, otherService] }),
        [mlflowApiRef, mlflowApi],
      ],
      initialRouteEntries: [path],
    });
  });
}

// The whole app with the catalog renders; that takes a while on a shared CI machine.
jest.setTimeout(60_000);
const findTimeout = { timeout: 30_000 };

describe('the entity page of the app', () => {
  it('shows the MLflow card and tab on an MLflow instance', async () => {
    await openEntityPage('/catalog/default/component/mlflow-demo');

    expect(
      await screen.findByRole(
        'status',
        { name: 'Overall status' },
        findTimeout,
      ),
    ).toHaveTextContent('Healthy');
    expect(screen.getByRole('link', { name: 'MLflow' })).toHaveAttribute(
      'href',
      '/catalog/default/component/mlflow-demo/mlflow',
    );
  });

  it('shows neither on other entities', async () => {
    await openEntityPage('/catalog/default/component/billing');

    expect(
      await screen.findByRole('link', { name: 'Overview' }, findTimeout),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('link', { name: 'MLflow' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('status', { name: 'Overall status' }),
    ).not.toBeInTheDocument();
  });
});
