import { readStackEnv } from './stackEnv';

describe('readStackEnv', () => {
  it('names every missing variable and how to get them', () => {
    expect(() => readStackEnv({ AWS_REGION: 'eu-west-1' })).toThrow(
      /missing AWS_ENDPOINT_URL, KUBECONFIG, PGHOST, PGPORT, PGUSER, PGPASSWORD, MLFLOW_BIN.*stack\/stack up/,
    );
  });

  it('reads the stack coordinates with a numeric port', () => {
    const env = readStackEnv({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:5055',
      AWS_REGION: 'eu-west-1',
      KUBECONFIG: '/tmp/kubeconfig',
      PGHOST: '127.0.0.1',
      PGPORT: '55432',
      PGUSER: 'stack',
      PGPASSWORD: 'pw',
      MLFLOW_BIN: '/venv/bin/mlflow',
    });
    expect(env.pgPort).toBe(55432);
    expect(env.awsEndpointUrl).toBe('http://127.0.0.1:5055');
  });
});
