import { ConfigReader } from '@backstage/config';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readDatabaseCaBundle,
  readHealthSecretReader,
  readRdsPollIntervalMs,
} from './moduleConfig';

const PEM =
  '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

describe('readDatabaseCaBundle', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ca-bundle-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const configWith = (caBundlePath?: string) =>
    new ConfigReader({ mlflow: { database: { caBundlePath } } });

  it('reads the PEM file the config names', () => {
    const path = join(dir, 'global-bundle.pem');
    writeFileSync(path, PEM);
    expect(readDatabaseCaBundle(configWith(path))).toBe(PEM);
  });

  it('is undefined when not configured', () => {
    expect(readDatabaseCaBundle(new ConfigReader({}))).toBeUndefined();
  });

  it('refuses a path that cannot be read, naming the key and the path', () => {
    const path = join(dir, 'missing.pem');
    expect(() => readDatabaseCaBundle(configWith(path))).toThrow(
      `Invalid mlflow.database.caBundlePath: received "${path}", which cannot be read (ENOENT). Accepted: the path of a PEM file of CA certificates`,
    );
  });

  it('refuses a file without a certificate', () => {
    const path = join(dir, 'empty.pem');
    writeFileSync(path, 'not a certificate');
    expect(() => readDatabaseCaBundle(configWith(path))).toThrow(
      `Invalid mlflow.database.caBundlePath: received "${path}", which holds no PEM certificate`,
    );
  });
});

describe('readHealthSecretReader', () => {
  const configWith = (secretReader: object) =>
    new ConfigReader({ mlflow: { health: { secretReader } } });

  it('reads a ServiceAccount with its namespace, and a User', () => {
    expect(
      readHealthSecretReader(
        configWith({
          kind: 'ServiceAccount',
          name: 'backstage',
          namespace: 'backstage',
        }),
      ),
    ).toEqual({
      kind: 'ServiceAccount',
      name: 'backstage',
      namespace: 'backstage',
    });
    expect(
      readHealthSecretReader(configWith({ kind: 'User', name: 'stack-admin' })),
    ).toEqual({ kind: 'User', name: 'stack-admin' });
  });

  it('is undefined when not configured', () => {
    expect(readHealthSecretReader(new ConfigReader({}))).toBeUndefined();
  });

  it.each([
    [
      { kind: 'Role', name: 'x' },
      'Invalid mlflow.health.secretReader.kind: received "Role". Accepted: ServiceAccount, User, Group.',
    ],
    [
      { kind: 'ServiceAccount', name: 'backstage' },
      'Invalid mlflow.health.secretReader.namespace: received nothing, but a ServiceAccount needs its namespace',
    ],
    [
      { kind: 'ServiceAccount', name: 'backstage', namespace: 'Back Stage' },
      'Invalid mlflow.health.secretReader.namespace (Kubernetes namespace): received "Back Stage"',
    ],
  ])('refuses %j naming the key and the value', (reader, message) => {
    expect(() => readHealthSecretReader(configWith(reader))).toThrow(message);
  });
});

describe('readRdsPollIntervalMs', () => {
  const configWith = (rdsPollIntervalSeconds: number | string) =>
    new ConfigReader({
      mlflow: { provisioning: { rdsPollIntervalSeconds } },
    });

  it('reads seconds as milliseconds, and leaves the default to each action when unset', () => {
    expect(readRdsPollIntervalMs(configWith(1))).toBe(1000);
    expect(readRdsPollIntervalMs(configWith(0.5))).toBe(500);
    expect(readRdsPollIntervalMs(new ConfigReader({}))).toBeUndefined();
  });

  it.each([0, -1, 301, 'fast'])(
    'refuses %p, naming the key, the value and what is accepted',
    value => {
      expect(() => readRdsPollIntervalMs(configWith(value))).toThrow(
        /^Invalid mlflow\.provisioning\.rdsPollIntervalSeconds: received .+\. Accepted: a number of seconds greater than 0 and at most 300/,
      );
    },
  );
});
