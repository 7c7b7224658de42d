/**
 * The local stack's coordinates, as `stack/stack env` exports them (stack/README.md, "Using it").
 * Every test and benchmark that talks to the stack reads them here, so a run without the stack
 * fails at once with one message naming what is missing, instead of timing out.
 */
export type StackEnv = {
  /** moto, the AWS endpoint (`AWS_ENDPOINT_URL`). */
  awsEndpointUrl: string;
  awsRegion: string;
  awsAccessKeyId: string;
  awsSecretAccessKey: string;
  /** The admin kubeconfig of the stack's cluster (`KUBECONFIG`). */
  kubeconfig: string;
  /** The stack's PostgreSQL superuser (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`). */
  pgHost: string;
  pgPort: number;
  pgUser: string;
  pgPassword: string;
  /** The endpoint MLflow's S3 client uses (`MLFLOW_S3_ENDPOINT_URL`). */
  mlflowS3EndpointUrl: string;
  /** The `mlflow` executable of the stack's virtualenv (`MLFLOW_BIN`). */
  mlflowBin: string;
  /** The Backstage config overlay `stack/stack up` writes (`STACK_APP_CONFIG`). */
  appConfigPath: string;
  /** Where the node agent serves Ingress hosts on 127.0.0.1 (`STACK_INGRESS_PORT`). */
  ingressPort: number;
};

const VARIABLES = {
  awsEndpointUrl: 'AWS_ENDPOINT_URL',
  awsRegion: 'AWS_REGION',
  awsAccessKeyId: 'AWS_ACCESS_KEY_ID',
  awsSecretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  kubeconfig: 'KUBECONFIG',
  pgHost: 'PGHOST',
  pgPort: 'PGPORT',
  pgUser: 'PGUSER',
  pgPassword: 'PGPASSWORD',
  mlflowS3EndpointUrl: 'MLFLOW_S3_ENDPOINT_URL',
  mlflowBin: 'MLFLOW_BIN',
  appConfigPath: 'STACK_APP_CONFIG',
  ingressPort: 'STACK_INGRESS_PORT',
} as const satisfies Record<keyof StackEnv, string>;

const PORTS = ['pgPort', 'ingressPort'] as const;

const HOW =
  'run the tests through scripts/test, or `stack/stack up && eval "$(stack/stack env)"` first';

/** Reads the stack's environment; throws naming every missing or invalid variable. */
export function readStackEnv(
  env: Record<string, string | undefined> = process.env,
): StackEnv {
  const missing = Object.values(VARIABLES).filter(name => !env[name]);
  if (missing.length > 0) {
    throw new Error(
      `The local stack is not in the environment (missing ${missing.join(
        ', ',
      )}): ${HOW}`,
    );
  }
  const invalid = PORTS.map(key => VARIABLES[key]).filter(
    name => !/^[1-9]\d{0,4}$/.test(env[name]!) || Number(env[name]) > 65535,
  );
  if (invalid.length > 0) {
    throw new Error(
      `The local stack's environment is invalid: ${invalid
        .map(name => `${name}=${JSON.stringify(env[name])}`)
        .join(', ')}; expected a port, a whole number from 1 to 65535`,
    );
  }
  const read = Object.fromEntries(
    Object.entries(VARIABLES).map(([key, name]) => [key, env[name]!]),
  ) as Record<keyof StackEnv, string>;
  return {
    ...read,
    pgPort: Number(read.pgPort),
    ingressPort: Number(read.ingressPort),
  };
}
