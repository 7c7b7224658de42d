import { readStackEnv } from './readStackEnv';

const complete = {
  AWS_ENDPOINT_URL: 'http://127.0.0.1:5055',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  KUBECONFIG: '/state/kubeconfig',
  PGHOST: '127.0.0.1',
  PGPORT: '55432',
  PGUSER: 'stack',
  PGPASSWORD: 'pw',
  MLFLOW_S3_ENDPOINT_URL: 'http://127.0.0.1:5055',
  MLFLOW_BIN: '/venv/bin/mlflow',
  STACK_APP_CONFIG: '/state/app-config.stack.yaml',
  STACK_INGRESS_PORT: '80',
};

describe('readStackEnv', () => {
  it('reads every variable `stack/stack env` exports, ports as numbers', () => {
    expect(readStackEnv(complete)).toEqual({
      awsEndpointUrl: 'http://127.0.0.1:5055',
      awsRegion: 'eu-west-1',
      awsAccessKeyId: 'test',
      awsSecretAccessKey: 'test',
      kubeconfig: '/state/kubeconfig',
      pgHost: '127.0.0.1',
      pgPort: 55432,
      pgUser: 'stack',
      pgPassword: 'pw',
      mlflowS3EndpointUrl: 'http://127.0.0.1:5055',
      mlflowBin: '/venv/bin/mlflow',
      appConfigPath: '/state/app-config.stack.yaml',
      ingressPort: 80,
    });
  });

  it('names every missing variable and how to get them', () => {
    expect(() => readStackEnv({ AWS_REGION: 'eu-west-1' })).toThrow(
      'missing AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, KUBECONFIG, PGHOST, PGPORT, PGUSER, PGPASSWORD, MLFLOW_S3_ENDPOINT_URL, MLFLOW_BIN, STACK_APP_CONFIG, STACK_INGRESS_PORT): run the tests through scripts/test',
    );
  });

  it('refuses a port that is not one, naming the variable and the value', () => {
    expect(() =>
      readStackEnv({
        ...complete,
        PGPORT: '5432x',
        STACK_INGRESS_PORT: '70000',
      }),
    ).toThrow(
      'PGPORT="5432x", STACK_INGRESS_PORT="70000"; expected a port, a whole number from 1 to 65535',
    );
  });

  it('never puts a password into its error', () => {
    let message = '';
    try {
      readStackEnv({ ...complete, PGPASSWORD: 'shh-secret', PGPORT: 'x' });
    } catch (error) {
      message = String(error);
    }
    expect(message).toContain('PGPORT="x"');
    expect(message).not.toContain('shh-secret');
  });
});
