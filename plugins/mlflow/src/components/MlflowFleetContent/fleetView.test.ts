import { fleetEntity, reportOf } from '../../testUtils/fleet';
import { unhealthyReport } from '../../testUtils/reports';
import { toFleetRow } from './fleetRow';
import { readFleetView, selectFleetRows, writeFleetView } from './fleetView';

function row(
  name: string,
  options: Parameters<typeof fleetEntity>[1] & { unhealthy?: boolean } = {},
) {
  const entity = fleetEntity(name, options);
  const ref = `component:default/${name}`;
  return toFleetRow(entity, {
    report: reportOf(ref, options.unhealthy ? unhealthyReport : undefined),
  });
}

describe('the fleet view in the URL', () => {
  it('reads back what it wrote, leaving defaults out', () => {
    const { view } = readFleetView(
      new URLSearchParams(
        'q=team&owner=group%3Adefault%2Fteam-ml&environment=prod&status=unhealthy&compliance=failing&sort=owner&order=desc&page=3&pageSize=25',
      ),
    );
    expect(view).toEqual({
      search: 'team',
      owner: 'group:default/team-ml',
      environment: 'prod',
      status: 'unhealthy',
      failingCompliance: true,
      sort: 'owner',
      order: 'desc',
      page: 3,
      pageSize: 25,
    });
    expect(readFleetView(writeFleetView(view)).view).toEqual(view);
    expect(
      writeFleetView(readFleetView(new URLSearchParams()).view).toString(),
    ).toBe('');
  });

  it('ignores invalid values and says which, what it got and what is accepted', () => {
    const { view, problems } = readFleetView(
      new URLSearchParams('status=broken&sort=colour&page=0&pageSize=7'),
    );
    expect(view).toMatchObject({
      status: undefined,
      sort: 'status',
      page: 1,
      pageSize: 50,
    });
    expect(problems).toEqual([
      'Ignored page="0": accepted a whole number from 1.',
      'Ignored status="broken": accepted healthy, degraded, unhealthy, unknown.',
      'Ignored sort="colour": accepted name, status, version, environment, owner, region, cluster, replicas, compliance.',
      'Ignored pageSize="7": accepted 25, 50, 100.',
    ]);
  });
});

describe('selecting the rows of a view', () => {
  const rows = [
    row('alpha', { owner: 'group:default/team-a', environment: 'dev' }),
    row('beta', { owner: 'group:default/team-b', unhealthy: true }),
    row('gamma', { owner: 'group:default/team-a', region: 'us-east-1' }),
  ];
  const base = readFleetView(new URLSearchParams()).view;
  const names = (view: Partial<typeof base>) =>
    selectFleetRows(rows, { ...base, ...view }).map(r => r.name);

  it('puts the worst status first by default, then the name', () => {
    expect(names({})).toEqual(['beta', 'alpha', 'gamma']);
    expect(names({ order: 'desc' })).toEqual(['alpha', 'gamma', 'beta']);
  });

  it('filters by owner, environment, status and search words', () => {
    expect(names({ owner: 'group:default/team-a' })).toEqual([
      'alpha',
      'gamma',
    ]);
    expect(names({ environment: 'dev' })).toEqual(['alpha']);
    expect(names({ status: 'unhealthy' })).toEqual(['beta']);
    expect(names({ search: 'US-EAST team-a' })).toEqual(['gamma']);
  });

  it('sorts by a column, rows without the value last', () => {
    const withoutRegion = toFleetRow(
      {
        ...fleetEntity('delta'),
        metadata: { name: 'delta', annotations: {} },
      },
      { error: { name: 'Error', message: 'boom' } },
    );
    const sorted = selectFleetRows([...rows, withoutRegion], {
      ...base,
      sort: 'region',
      order: 'desc',
    }).map(r => r.name);
    expect(sorted).toEqual(['gamma', 'alpha', 'beta', 'delta']);
  });
});
