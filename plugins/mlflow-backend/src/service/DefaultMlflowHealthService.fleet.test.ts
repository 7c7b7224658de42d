import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import {
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
} from '@aws-sdk/client-s3';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  mlflowDeployment,
  mlflowEntity,
  rdsInstance,
} from '../testUtils/healthFixtures';
import {
  check,
  createService,
  credentials,
  rdsMock,
  s3Mock,
  useHealthServiceFixture,
} from './__testUtils__/healthServiceFixtures';

describe('DefaultMlflowHealthService', () => {
  const fixture = useHealthServiceFixture();

  describe('fleet', () => {
    it('batches DescribeDBInstances by 100 ids, reads a bucket claimed by many once and bounds concurrency per host', async () => {
      const names = Array.from({ length: 250 }, (_, i) => `ml-${i}`);
      fixture.rdsInstances = Object.fromEntries(
        names.map(n => [`${n}-db`, rdsInstance(`${n}-db`)]),
      );
      fixture.mlflow.state.delayMs = 5;
      const { service } = createService({
        entities: names.map(n =>
          mlflowEntity(n, {
            'mlflow.org/tracking-url': fixture.mlflow.url,
            'mlflow.org/s3-artifact-root': `s3://shared-artifacts/${n}`,
          }),
        ),
        // 250 instances through 3 connections take seconds on a loaded machine: this test is about
        // batching and concurrency, so no check may time out while it waits for its turn.
        health: { maxConcurrencyPerHost: 3, checkTimeoutMs: 120_000 },
      });
      const { items } = await service.getReports(
        names.map(n => `component:default/${n}`),
        { credentials },
      );
      expect(items).toHaveLength(250);
      expect(
        items.every(
          item =>
            'report' in item && check(item.report, 'database').status === 'ok',
        ),
      ).toBe(true);
      const describes = rdsMock.commandCalls(DescribeDBInstancesCommand);
      expect(
        describes.map(c => c.args[0].input.Filters?.[0].Values?.length),
      ).toEqual([100, 100, 50]);
      // The bucket is tagged for an instance `shared`, none of these: refused, its tags read once.
      expect(
        items.every(
          item =>
            'report' in item &&
            check(item.report, 'artifactStore').summary ===
              "Bucket shared-artifacts is not this instance's (its stateful-mlflow/instance tag names another instance); it is not described.",
        ),
      ).toBe(true);
      expect(s3Mock.commandCalls(HeadBucketCommand)).toHaveLength(1);
      expect(s3Mock.commandCalls(GetBucketTaggingCommand)).toHaveLength(1);
      expect(s3Mock.commandCalls(GetBucketVersioningCommand)).toHaveLength(0);
      expect(fixture.mlflow.maxInFlight()).toBeLessThanOrEqual(3);
    }, 120_000);

    it('reads Kubernetes with two cluster-wide lists for many namespaces, namespaced lists when refused', async () => {
      const names = ['a', 'b', 'c'];
      const setup = {
        entities: names.map(n =>
          mlflowEntity(n, { 'mlflow.org/tracking-url': fixture.mlflow.url }),
        ),
        deployments: Object.fromEntries(
          names.map(n => [n, [mlflowDeployment(n, { desired: 1, ready: 1 })]]),
        ),
      };
      const refs = names.map(n => `component:default/${n}`);
      const wide = createService(setup);
      const { items } = await wide.service.getReports(refs, { credentials });
      expect(
        items.map(i => 'report' in i && check(i.report, 'kubernetes').summary),
      ).toEqual([
        'Deployment a/a: 1 of 1 replicas ready.',
        'Deployment b/b: 1 of 1 replicas ready.',
        'Deployment c/c: 1 of 1 replicas ready.',
      ]);
      expect(wide.kubeCalls).toEqual({
        listNamespacedDeployment: 0,
        listDeploymentForAllNamespaces: 1,
        listNamespacedIngress: 0,
        listIngressForAllNamespaces: 1,
      });

      const narrow = createService({ ...setup, refuseClusterWide: true });
      const fallback = await narrow.service.getReports(refs, { credentials });
      expect(
        fallback.items.every(
          i => 'report' in i && check(i.report, 'kubernetes').status === 'ok',
        ),
      ).toBe(true);
      expect(narrow.kubeCalls).toMatchObject({
        listNamespacedDeployment: 3,
        listNamespacedIngress: 3,
      });
    });

    it('answers per item: unknown and invisible refs are not found, denied ones not allowed', async () => {
      const { service, authorize, authorizeConditional } = createService({
        entities: [fixture.prodEntity()],
        permission: AuthorizeResult.DENY,
      });
      const { items } = await service.getReports(
        ['component:default/prod', 'component:default/ghost'],
        { credentials },
      );
      expect(items).toEqual([
        {
          entityRef: 'component:default/prod',
          error: {
            name: 'NotAllowedError',
            message:
              'You are not allowed to read the health of component:default/prod.',
          },
        },
        {
          entityRef: 'component:default/ghost',
          error: {
            name: 'NotFoundError',
            message: 'No entity component:default/ghost that you can see.',
          },
        },
      ]);
      expect(authorizeConditional).toHaveBeenCalledTimes(1);
      expect(authorizeConditional).toHaveBeenCalledWith(
        [
          {
            permission: expect.objectContaining({
              name: 'catalog.entity.read',
            }),
          },
          {
            permission: expect.objectContaining({
              name: 'mlflow.instance.health.read',
            }),
          },
        ],
        { credentials },
      );
      expect(authorize).not.toHaveBeenCalled();
      expect(fixture.mlflow.requests).toEqual([]);
    });
  });
});
