import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  ScaffolderActionsExtensionPoint,
  scaffolderActionsExtensionPoint,
} from '@backstage/plugin-scaffolder-node';
import { scaffolderModule } from './module';

type RegisteredAction = Parameters<
  ScaffolderActionsExtensionPoint['addActions']
>[number];

describe('scaffolderModule', () => {
  it('registers every MLflow action with the scaffolder', async () => {
    const added: RegisteredAction[] = [];
    await startTestBackend({
      extensionPoints: [
        [
          scaffolderActionsExtensionPoint,
          {
            addActions: (...actions: RegisteredAction[]) =>
              added.push(...actions),
          },
        ],
      ],
      features: [
        scaffolderModule,
        catalogServiceMock.factory(),
        mockServices.rootConfig.factory({
          data: {
            mlflow: {
              database: {
                connectionOverride: { host: '127.0.0.1', port: 55432 },
              },
            },
          },
        }),
      ],
    });
    expect(added.map(a => a.id).sort()).toEqual(
      expect.arrayContaining([
        'mlflow:database:create',
        'mlflow:iam:createRole',
        'mlflow:kubernetes:deploy',
        'mlflow:rds:create',
        'mlflow:s3:create',
        'mlflow:instance:planDecommission',
        'mlflow:kubernetes:delete',
        'mlflow:rds:delete',
        'mlflow:iam:deleteRole',
        'mlflow:s3:retire',
        'mlflow:catalog:removeInstance',
      ]),
    );
    expect(added.every(a => a.supportsDryRun)).toBe(true);
    expect(added.every(a => a.schema?.output)).toBe(true);
  });

  it('refuses an sslMode it does not know', async () => {
    await expect(
      startTestBackend({
        extensionPoints: [
          [scaffolderActionsExtensionPoint, { addActions: () => {} }],
        ],
        features: [
          scaffolderModule,
          catalogServiceMock.factory(),
          mockServices.rootConfig.factory({
            data: {
              mlflow: {
                database: {
                  connectionOverride: { host: 'h', port: 1, sslMode: 'prefer' },
                },
              },
            },
          }),
        ],
      }),
    ).rejects.toThrow(
      /Invalid mlflow.database.connectionOverride.sslMode: received "prefer"/,
    );
  });

  it('reads the database CA bundle and the health Secret reader at startup', async () => {
    const start = (mlflow: object) =>
      startTestBackend({
        extensionPoints: [
          [scaffolderActionsExtensionPoint, { addActions: () => {} }],
        ],
        features: [
          scaffolderModule,
          catalogServiceMock.factory(),
          mockServices.rootConfig.factory({ data: { mlflow } }),
        ],
      });
    await expect(
      start({ database: { caBundlePath: '/nonexistent/global-bundle.pem' } }),
    ).rejects.toThrow(
      /Invalid mlflow.database.caBundlePath: received "\/nonexistent\/global-bundle.pem", which cannot be read/,
    );
    await expect(
      start({ health: { secretReader: { kind: 'Pod', name: 'backstage' } } }),
    ).rejects.toThrow(
      /Invalid mlflow.health.secretReader.kind: received "Pod"/,
    );
  });
});
