import { ConfigReader } from '@backstage/config';
import { readMlflowHealthConfig } from './readMlflowHealthConfig';

describe('readMlflowHealthConfig', () => {
  it('applies the defaults, calling no tracking host', () => {
    expect(readMlflowHealthConfig(new ConfigReader({}))).toEqual({
      allowedTrackingHosts: [],
      checkTimeoutMs: 5000,
      cacheTtlSeconds: 30,
      storeSettingsTtlSeconds: 600,
      refreshMinIntervalSeconds: 10,
      maxConcurrencyPerHost: 4,
    });
  });

  it('reads every setting and lowercases the host patterns', () => {
    expect(
      readMlflowHealthConfig(
        new ConfigReader({
          mlflow: {
            health: {
              allowedTrackingHosts: ['*.MLflow.example.com'],
              checkTimeoutMs: 2000,
              cacheTtlSeconds: 0,
              storeSettingsTtlSeconds: 3600,
              refreshMinIntervalSeconds: 0,
              maxConcurrencyPerHost: 8,
            },
          },
        }),
      ),
    ).toEqual({
      allowedTrackingHosts: ['*.mlflow.example.com'],
      checkTimeoutMs: 2000,
      cacheTtlSeconds: 0,
      storeSettingsTtlSeconds: 3600,
      refreshMinIntervalSeconds: 0,
      maxConcurrencyPerHost: 8,
    });
  });

  it('refuses a value the service could not honour, saying what is accepted', () => {
    expect(() =>
      readMlflowHealthConfig(
        new ConfigReader({ mlflow: { health: { checkTimeoutMs: 0 } } }),
      ),
    ).toThrow(
      'Invalid mlflow.health.checkTimeoutMs: received 0, but it must be an integer of at least 1.',
    );
    expect(() =>
      readMlflowHealthConfig(
        new ConfigReader({
          mlflow: {
            health: { allowedTrackingHosts: ['https://mlflow.example.com/'] },
          },
        }),
      ),
    ).toThrow(
      /^Invalid mlflow.health.allowedTrackingHosts entry: received "https:\/\/mlflow.example.com\/", but it must be a host name pattern/,
    );
  });
});
