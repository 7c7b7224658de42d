/**
 * The local stack's coordinates, as `stack/stack env` exports them. Tests that talk to the stack read
 * them here so that a run without the stack fails with one clear message instead of timeouts.
 */
export type StackEnv = {
  awsEndpointUrl: string;
  awsRegion: string;
  kubeconfig: string;
  pgHost: string;
  pgPort: number;
  pgUser: string;
  pgPassword: string;
  mlflowBin: string;
};

const REQUIRED = [
  'AWS_ENDPOINT_URL',
  'AWS_REGION',
  'KUBECONFIG',
  'PGHOST',
  'PGPORT',
  'PGUSER',
  'PGPASSWORD',
  'MLFLOW_BIN',
] as const;

export function readStackEnv(env: NodeJS.ProcessEnv = process.env): StackEnv {
  const missing = REQUIRED.filter(name => !env[name]);
  if (missing.length > 0) {
    throw new Error(
      `The local stack is not in the environment (missing ${missing.join(
        ', ',
      )}); run the tests through scripts/test, or eval "$(stack/stack env)" after stack/stack up`,
    );
  }
  return {
    awsEndpointUrl: env.AWS_ENDPOINT_URL!,
    awsRegion: env.AWS_REGION!,
    kubeconfig: env.KUBECONFIG!,
    pgHost: env.PGHOST!,
    pgPort: Number(env.PGPORT),
    pgUser: env.PGUSER!,
    pgPassword: env.PGPASSWORD!,
    mlflowBin: env.MLFLOW_BIN!,
  };
}
