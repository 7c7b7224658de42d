import { screen, waitFor, within } from '@testing-library/react';
import { useLocation } from 'react-router-dom';
import { Entity } from '@backstage/catalog-model';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import {
  CatalogApi,
  catalogApiRef,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { MlflowApi, mlflowApiRef } from '../../../api';
import { MlflowFleetContent } from '../MlflowFleetContent';

/*
 * What the tests of MlflowFleetContent share: the page in a test app, with a probe showing the URL
 * query, and queries for what it shows.
 */

/** Shows the current query string, to check what the page writes into the URL. */
function LocationProbe() {
  return <output aria-label="URL query">{useLocation().search}</output>;
}

export async function renderFleet(options: {
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

export const summary = () =>
  screen.getByRole('status', { name: 'Fleet summary' });
export const tableRows = () =>
  within(screen.getByRole('table', { name: 'MLflow instances' }))
    .getAllByRole('row')
    .slice(1);
export const rowOf = (name: string) => {
  const row = tableRows().find(
    r => r.getAttribute('data-entity-ref') === `component:default/${name}`,
  );
  if (!row) {
    throw new Error(`No row for ${name}`);
  }
  return row;
};
export const urlQuery = () => screen.getByRole('status', { name: 'URL query' });

export async function waitForLoaded() {
  await waitFor(() =>
    expect(
      screen.getByRole('region', { name: 'MLflow fleet' }),
    ).toHaveAttribute('aria-busy', 'false'),
  );
}
