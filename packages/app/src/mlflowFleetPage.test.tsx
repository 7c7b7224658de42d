import { act, screen, within } from '@testing-library/react';
import { renderTestApp } from '@backstage/frontend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { MlflowApi, mlflowApiRef } from '@stateful-mlflow/plugin-mlflow';
import mlflowPlugin from '@stateful-mlflow/plugin-mlflow/alpha';

type MlflowHealthReport = Awaited<ReturnType<MlflowApi['getHealth']>>;

function instance(name: string) {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: {
        'mlflow.org/tracking-url': `https://${name}.example.com`,
      },
    },
    spec: { type: 'service', lifecycle: 'production', owner: 'team-ml' },
  };
}

function report(
  entityRef: string,
  overall: MlflowHealthReport['overall'],
): MlflowHealthReport {
  return {
    entityRef,
    overall,
    checkedAt: new Date().toISOString(),
    checks: [],
    links: [],
  };
}

const mlflowApi: MlflowApi = {
  getHealth: async () => report('component:default/mlflow-demo', 'healthy'),
  getFleetHealth: async refs => ({
    items: refs.map(ref => ({
      entityRef: String(ref),
      report: report(
        String(ref),
        String(ref).endsWith('/mlflow-second') ? 'unhealthy' : 'healthy',
      ),
    })),
  }),
};

// The whole app with the catalog renders; that takes a while on a shared CI machine.
jest.setTimeout(60_000);
const findTimeout = { timeout: 30_000 };

describe('the MLflow fleet page of the app', () => {
  it('is in the sidebar and lists the instances at /mlflow', async () => {
    await act(async () => {
      renderTestApp({
        features: [catalogPlugin, mlflowPlugin],
        apis: [
          catalogApiMock({
            entities: [instance('mlflow-demo'), instance('mlflow-second')],
          }),
          [mlflowApiRef, mlflowApi],
        ],
        initialRouteEntries: ['/mlflow?status=unhealthy'],
      });
    });

    const table = await screen.findByRole(
      'table',
      { name: 'MLflow instances' },
      findTimeout,
    );
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map(row => row.getAttribute('data-entity-ref'))).toEqual([
      'component:default/mlflow-second',
    ]);
    expect(
      within(rows[0]).getByRole('link', { name: 'mlflow-second' }),
    ).toHaveAttribute('href', '/catalog/default/component/mlflow-second');
    // The sidebar item is the link labelled for collapsed sidebars too.
    const sidebarItem = screen
      .getAllByRole('link', { name: 'MLflow fleet' })
      .find(link => link.getAttribute('aria-label') === 'MLflow fleet');
    expect(sidebarItem).toHaveAttribute('href', '/mlflow');
  });
});
