import { MlflowOverallStatus } from '@stateful-mlflow/plugin-mlflow-common';
import { FleetRow } from './fleetRow';

/** Columns the table sorts by. */
export const FLEET_SORT_KEYS = [
  'name',
  'status',
  'version',
  'environment',
  'owner',
  'region',
  'cluster',
  'replicas',
  'compliance',
] as const;
export type FleetSortKey = (typeof FLEET_SORT_KEYS)[number];

const STATUSES: MlflowOverallStatus[] = [
  'healthy',
  'degraded',
  'unhealthy',
  'unknown',
];
export const FLEET_PAGE_SIZES = [25, 50, 100] as const;
const DEFAULT_PAGE_SIZE = 50;

/** What the user chose to see; every field lives in the URL so that a link reproduces the view. */
export type FleetView = {
  search: string;
  owner?: string;
  environment?: string;
  status?: MlflowOverallStatus;
  failingCompliance: boolean;
  sort: FleetSortKey;
  order: 'asc' | 'desc';
  page: number;
  pageSize: number;
};

/** The view, and a sentence for each URL parameter that was ignored because its value is invalid. */
export function readFleetView(params: URLSearchParams): {
  view: FleetView;
  problems: string[];
} {
  const problems: string[] = [];
  function oneOf<T extends string | number>(
    name: string,
    accepted: readonly T[],
  ): T | undefined {
    const raw = params.get(name);
    if (raw === null) {
      return undefined;
    }
    const value = accepted.find(candidate => String(candidate) === raw);
    if (value === undefined) {
      problems.push(
        `Ignored ${name}=${JSON.stringify(raw)}: accepted ${accepted.join(
          ', ',
        )}.`,
      );
    }
    return value;
  }
  const page = params.get('page');
  const pageNumber = page === null ? 1 : Number(page);
  if (!Number.isInteger(pageNumber) || pageNumber < 1) {
    problems.push(
      `Ignored page=${JSON.stringify(page)}: accepted a whole number from 1.`,
    );
  }
  const compliance = oneOf('compliance', ['failing']);
  return {
    view: {
      search: params.get('q') ?? '',
      owner: params.get('owner') || undefined,
      environment: params.get('environment') || undefined,
      status: oneOf('status', STATUSES),
      failingCompliance: compliance === 'failing',
      sort: oneOf('sort', FLEET_SORT_KEYS) ?? 'status',
      order: oneOf('order', ['asc', 'desc'] as const) ?? 'asc',
      page: Number.isInteger(pageNumber) && pageNumber >= 1 ? pageNumber : 1,
      pageSize: oneOf('pageSize', FLEET_PAGE_SIZES) ?? DEFAULT_PAGE_SIZE,
    },
    problems,
  };
}

/** The URL parameters of a view; defaults are left out so links stay short. */
export function writeFleetView(view: FleetView): URLSearchParams {
  const params = new URLSearchParams();
  const set = (name: string, value: string | undefined, fallback?: string) => {
    if (value !== undefined && value !== '' && value !== fallback) {
      params.set(name, value);
    }
  };
  set('q', view.search);
  set('owner', view.owner);
  set('environment', view.environment);
  set('status', view.status);
  set('compliance', view.failingCompliance ? 'failing' : undefined);
  set('sort', view.sort, 'status');
  set('order', view.order, 'asc');
  set('page', String(view.page), '1');
  set('pageSize', String(view.pageSize), String(DEFAULT_PAGE_SIZE));
  return params;
}

/** Worst first when sorted ascending: the instances that need attention lead. */
const STATUS_RANK: Record<MlflowOverallStatus, number> = {
  unhealthy: 0,
  degraded: 1,
  unknown: 2,
  healthy: 3,
};

type SortValue = string | number | undefined;

const SORT_VALUE: Record<FleetSortKey, (row: FleetRow) => SortValue> = {
  name: row => row.title.toLocaleLowerCase('en-US'),
  status: row => STATUS_RANK[row.overall],
  version: row => row.version,
  environment: row => row.environment,
  owner: row => row.owner,
  region: row => row.region,
  cluster: row => row.cluster,
  replicas: row => row.replicas?.ready,
  compliance: row => row.failingCompliance.length,
};

function compareValues(a: SortValue, b: SortValue): number {
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  // Numeric collation orders versions (3.10.0 after 3.9.1) and names with numbers naturally.
  return String(a).localeCompare(String(b), 'en', { numeric: true });
}

function matchesSearch(row: FleetRow, words: string[]): boolean {
  const text = [
    row.name,
    row.title,
    row.owner,
    row.environment,
    row.region,
    row.cluster,
    row.version,
    row.trackingUrl,
  ]
    .filter(Boolean)
    .join(' ')
    .toLocaleLowerCase('en-US');
  return words.every(word => text.includes(word));
}

/** The rows the view selects, in its order (all pages). */
export function selectFleetRows(rows: FleetRow[], view: FleetView): FleetRow[] {
  const words = view.search
    .toLocaleLowerCase('en-US')
    .split(/\s+/)
    .filter(Boolean);
  const selected = rows.filter(
    row =>
      (!view.owner || row.owner === view.owner) &&
      (!view.environment || row.environment === view.environment) &&
      (!view.status || row.overall === view.status) &&
      (!view.failingCompliance || row.failingCompliance.length > 0) &&
      matchesSearch(row, words),
  );
  const direction = view.order === 'asc' ? 1 : -1;
  const value = SORT_VALUE[view.sort];
  return selected.sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    // Rows without the value go last whichever the direction, then ties fall back to the name.
    if (va === undefined || vb === undefined) {
      if (va !== vb) {
        return va === undefined ? 1 : -1;
      }
    } else {
      const order = compareValues(va, vb) * direction;
      if (order !== 0) {
        return order;
      }
    }
    return a.entityRef.localeCompare(b.entityRef);
  });
}
