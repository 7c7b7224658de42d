import { readStackEnv } from '@internal/stack-env';

/**
 * Template values the local stack needs: the node agent runs the stack's own MLflow whatever the
 * image, and the stack has no IAM OIDC provider.
 */
export const LOCAL_STACK_DEFAULTS = {
  image: 'ghcr.io/acme/mlflow-server:3.1.0',
  trustType: 'podIdentity',
};

/** The mlflow-production form's values for a small dev instance `name` on the local stack; `overrides` win. */
export function devInstanceValues(
  name: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    owner: 'group:default/guests',
    environment: 'dev',
    region: readStackEnv().awsRegion,
    cluster: 'local',
    replicas: 1,
    hostname: `${name}.mlflow.localhost`,
    ...LOCAL_STACK_DEFAULTS,
    ...overrides,
  };
}

/** The mlflow-decommission form's values for instance `name` on the local stack, its name confirmed. */
export function decommissionValues(name: string): Record<string, unknown> {
  return {
    name,
    confirmName: name,
    region: readStackEnv().awsRegion,
    cluster: 'local',
  };
}
