import { createBackend } from '@backstage/backend-defaults';
import { mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';

// A standalone backend for working on the health API: mocked auth and permissions and a catalog
// holding one MLflow instance. With the local stack up (`eval "$(stack/stack env)"`), try:
//
//   curl http://localhost:7007/api/mlflow/v1/health/default/component/demo
//   curl http://localhost:7007/api/mlflow/v1/health -H 'Content-Type: application/json' \
//     -d '{"entityRefs": ["component:default/demo"]}'

const backend = createBackend();

backend.add(mockServices.auth.factory());
backend.add(mockServices.httpAuth.factory());
backend.add(
  mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
);
backend.add(
  catalogServiceMock.factory({
    entities: [
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: {
          name: 'demo',
          annotations: {
            'mlflow.org/tracking-url': 'http://demo.mlflow.localhost',
            'mlflow.org/aws-region': 'eu-west-1',
            'mlflow.org/rds-instance-id': 'demo-db',
            'mlflow.org/s3-artifact-root': 's3://demo-artifacts/mlflow',
            'mlflow.org/kubernetes-cluster': 'local',
            'backstage.io/kubernetes-id': 'demo',
            'backstage.io/kubernetes-namespace': 'demo',
          },
        },
        spec: { type: 'service', lifecycle: 'experimental', owner: 'team-ml' },
      },
    ],
  }),
);

backend.add(import('../src'));

backend.start();
