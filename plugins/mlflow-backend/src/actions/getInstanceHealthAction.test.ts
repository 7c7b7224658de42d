import { mockCredentials } from '@backstage/backend-test-utils';
import { actionsRegistryServiceMock } from '@backstage/backend-test-utils/alpha';
import { NotFoundError } from '@backstage/errors';
import { MlflowHealthReport } from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowHealthService } from '../service/MlflowHealthService';
import { createGetInstanceHealthAction } from './getInstanceHealthAction';

const report: MlflowHealthReport = {
  entityRef: 'component:default/mlflow-prod',
  overall: 'degraded',
  checkedAt: '2026-11-26T05:00:00.000Z',
  checks: [
    {
      id: 'kubernetes',
      status: 'warning',
      summary: 'Deployment mlflow-prod/mlflow-prod: 1 of 2 replicas ready.',
      details: {
        cluster: 'local',
        namespace: 'mlflow-prod',
        deployment: 'mlflow-prod',
        replicas: { desired: 2, ready: 1, updated: 2, available: 1 },
        conditions: [],
      },
      latencyMs: 12,
    },
  ],
  links: [],
};

describe('get-instance-health', () => {
  function setup(getReport: MlflowHealthService['getReport']) {
    const registry = actionsRegistryServiceMock();
    registry.register(
      createGetInstanceHealthAction({
        health: { getReport, getReports: jest.fn() },
      }),
    );
    return registry;
  }

  it('returns the report, asked with the credentials of the caller', async () => {
    const getReport = jest.fn(async () => report);
    const registry = setup(getReport);
    const caller = mockCredentials.user('user:default/alice');
    await expect(
      registry.invoke({
        id: 'test:get-instance-health',
        input: { entityRef: 'component:default/mlflow-prod', refresh: true },
        credentials: caller,
      }),
    ).resolves.toEqual({ output: report });
    expect(getReport).toHaveBeenCalledWith('component:default/mlflow-prod', {
      credentials: caller,
      refresh: true,
    });
  });

  it('passes on the not-found error of an entity the caller cannot see', async () => {
    const registry = setup(async () => {
      throw new NotFoundError(
        'No entity component:default/x that you can see.',
      );
    });
    await expect(
      registry.invoke({
        id: 'test:get-instance-health',
        input: { entityRef: 'component:default/x' },
        credentials: mockCredentials.user(),
      }),
    ).rejects.toThrow('No entity component:default/x that you can see.');
  });

  it('refuses an input without an entity ref before asking anything', async () => {
    const getReport = jest.fn();
    const registry = setup(getReport);
    await expect(
      registry.invoke({
        id: 'test:get-instance-health',
        input: {},
        credentials: mockCredentials.user(),
      }),
    ).rejects.toThrow('Invalid input to action "test:get-instance-health"');
    expect(getReport).not.toHaveBeenCalled();
  });
});
