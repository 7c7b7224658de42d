import { resolveRdsInstanceTarget } from './rdsInstancePlan';

describe('resolveRdsInstanceTarget', () => {
  it('derives the RDS instance id from the name when none is given, and keeps a given one', () => {
    expect(
      resolveRdsInstanceTarget({ name: 'demo', region: 'eu-west-1' }),
    ).toEqual({ name: 'demo', region: 'eu-west-1', instanceId: 'mlflow-demo' });
    expect(
      resolveRdsInstanceTarget({
        name: 'demo',
        region: 'eu-west-1',
        instanceId: 'shared-pg',
      }),
    ).toEqual({ name: 'demo', region: 'eu-west-1', instanceId: 'shared-pg' });
  });

  it('refuses the name first, then the region, then the instance id', () => {
    const bad = { name: 'Bad_Name', region: 'nowhere', instanceId: 'Bad_Id' };
    expect(() => resolveRdsInstanceTarget(bad)).toThrow(
      /^Invalid name \(.*\): received "Bad_Name", but /,
    );
    expect(() => resolveRdsInstanceTarget({ ...bad, name: 'demo' })).toThrow(
      /^Invalid region \(.*\): received "nowhere", but /,
    );
    expect(() =>
      resolveRdsInstanceTarget({ ...bad, name: 'demo', region: 'eu-west-1' }),
    ).toThrow(/^Invalid instanceId \(.*\): received "Bad_Id", but /);
  });
});
