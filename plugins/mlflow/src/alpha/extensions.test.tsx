import { act, screen } from '@testing-library/react';
import {
  ApiBlueprint,
  coreExtensionData,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import {
  createExtensionTester,
  renderInTestApp,
  renderTestApp,
  TestApiProvider,
} from '@backstage/frontend-test-utils';
import {
  catalogApiRef,
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import {
  catalogApiMock,
  createTestEntityPage,
} from '@backstage/plugin-catalog-react/testUtils';
import { MlflowClient, mlflowApiRef } from '../api';
import { answering, fakeMlflowApi } from '../testUtils/fakes';
import { fakeFleetApi, fleetEntity, reportOf } from '../testUtils/fleet';
import {
  healthyReport,
  mlflowEntity,
  plainEntity,
  unhealthyReport,
} from '../testUtils/reports';
import {
  mlflowApi,
  mlflowEntityCard,
  mlflowEntityContent,
  mlflowFleetPage,
} from './extensions';
import mlflowPlugin from '../alpha';

// Each test renders a whole test app: slow on a loaded two-core machine.
jest.setTimeout(30_000);

describe('new frontend system extensions', () => {
  it('the card and the tab apply only to entities with the tracking URL annotation', () => {
    const cardFilter = createExtensionTester(mlflowEntityCard).get(
      EntityCardBlueprint.dataRefs.filterFunction,
    );
    const contentFilter = createExtensionTester(mlflowEntityContent).get(
      EntityContentBlueprint.dataRefs.filterFunction,
    );
    for (const filter of [cardFilter, contentFilter]) {
      expect(filter?.(mlflowEntity)).toBe(true);
      expect(filter?.(plainEntity)).toBe(false);
    }
  });

  it('the tab is titled MLflow at /mlflow', () => {
    const tester = createExtensionTester(mlflowEntityContent);
    expect(tester.get(EntityContentBlueprint.dataRefs.title)).toBe('MLflow');
    expect(tester.get(coreExtensionData.routePath)).toBe('/mlflow');
  });

  it('the card extension renders the status card', async () => {
    const tester = createExtensionTester(mlflowEntityCard);
    await act(async () => {
      renderInTestApp(
        <TestApiProvider
          apis={[[mlflowApiRef, fakeMlflowApi(answering(healthyReport))]]}
        >
          <EntityProvider entity={mlflowEntity}>
            {tester.reactElement()}
          </EntityProvider>
        </TestApiProvider>,
      );
    });
    expect(
      await screen.findByRole('status', { name: 'Overall status' }),
    ).toHaveTextContent('Healthy');
  });

  it('the API extension builds an MlflowClient from discovery and fetch', () => {
    const factory = createExtensionTester(mlflowApi).get(
      ApiBlueprint.dataRefs.factory,
    );
    expect(factory.api).toBe(mlflowApiRef);
    expect(Object.values(factory.deps)).toEqual([discoveryApiRef, fetchApiRef]);
    const client = factory.factory({
      discoveryApi: { getBaseUrl: async () => 'http://backstage.test' },
      fetchApi: { fetch },
    });
    expect(client).toBeInstanceOf(MlflowClient);
  });

  it('the plugin holds the API, the card and the tab', () => {
    expect(mlflowPlugin.pluginId).toBe('mlflow');
    expect(mlflowPlugin.getExtension('api:mlflow')).toBeDefined();
    expect(
      mlflowPlugin.getExtension('entity-card:mlflow/status'),
    ).toBeDefined();
    expect(mlflowPlugin.getExtension('entity-content:mlflow')).toBeDefined();
    expect(mlflowPlugin.getExtension('page:mlflow')).toBeDefined();
  });

  it('the fleet page is at /mlflow, titled for the sidebar', () => {
    const tester = createExtensionTester(mlflowFleetPage);
    expect(tester.get(coreExtensionData.routePath)).toBe('/mlflow');
    expect(tester.get(coreExtensionData.title)).toBe('MLflow fleet');
  });
});

describe('the fleet page in an app', () => {
  it('lists the instances with the view the URL asks for', async () => {
    const entities = [fleetEntity('mlflow-a'), fleetEntity('mlflow-b')];
    const api = fakeFleetApi(ref => ({
      entityRef: ref,
      report: reportOf(
        ref,
        ref === 'component:default/mlflow-b' ? unhealthyReport : undefined,
      ),
    }));
    await act(async () => {
      renderTestApp({
        extensions: [mlflowFleetPage],
        apis: [
          [catalogApiRef, catalogApiMock({ entities })],
          [mlflowApiRef, api],
        ],
        mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef },
        initialRouteEntries: ['/mlflow?status=unhealthy'],
      });
    });
    const table = await screen.findByRole(
      'table',
      { name: 'MLflow instances' },
      { timeout: 20_000 },
    );
    expect(
      await screen.findByRole('link', { name: 'mlflow-b' }),
    ).toHaveAttribute('href', '/catalog/default/component/mlflow-b');
    expect(table.querySelectorAll('tbody tr')).toHaveLength(1);
  });
});

describe('on an entity page', () => {
  async function renderEntityPage(entity: typeof mlflowEntity) {
    const api = fakeMlflowApi(answering(healthyReport));
    await act(async () => {
      renderTestApp({
        extensions: [createTestEntityPage({ entity }), mlflowEntityCard],
        apis: [[mlflowApiRef, api]],
      });
    });
    return api;
  }

  it('shows the card on an MLflow instance', async () => {
    await renderEntityPage(mlflowEntity);
    expect(
      await screen.findByRole('status', { name: 'Overall status' }),
    ).toHaveTextContent('Healthy');
  });

  it('leaves the card out on other entities', async () => {
    const api = await renderEntityPage(plainEntity);
    expect(await screen.findByTestId('empty-entity-page')).toBeInTheDocument();
    expect(screen.queryByText('MLflow')).not.toBeInTheDocument();
    expect(api.getHealth).not.toHaveBeenCalled();
  });
});
