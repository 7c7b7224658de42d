import { Config } from '@backstage/config';
import {
  describeReceived,
  nameRules,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { readFileSync } from 'node:fs';
import { SecretReaderSubject } from './kubernetes/renderMlflowManifests';

const CA_BUNDLE_KEY = 'mlflow.database.caBundlePath';
const RDS_POLL_INTERVAL_KEY = 'mlflow.provisioning.rdsPollIntervalSeconds';
const RDS_POLL_INTERVAL_MAX_SECONDS = 300;
const SECRET_READER_KEY = 'mlflow.health.secretReader';
const SECRET_READER_KINDS = ['ServiceAccount', 'User', 'Group'] as const;

/**
 * The PEM bundle the RDS certificate is verified against (mlflow.database.caBundlePath), read
 * once at startup so a wrong path fails the backend, not the first task.
 */
export function readDatabaseCaBundle(config: Config): string | undefined {
  const path = config.getOptionalString(CA_BUNDLE_KEY);
  if (!path) {
    return undefined;
  }
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `Invalid ${CA_BUNDLE_KEY}: received ${JSON.stringify(
        path,
      )}, which cannot be read (${
        (error as NodeJS.ErrnoException).code ?? 'unknown error'
      }). Accepted: the path of a PEM file of CA certificates, e.g. AWS's RDS global-bundle.pem.`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(
      `Invalid ${CA_BUNDLE_KEY}: received ${JSON.stringify(
        path,
      )}, which holds no PEM certificate. Accepted: the path of a PEM file of CA certificates, e.g. AWS's RDS global-bundle.pem.`,
    );
  }
  return pem;
}

/**
 * Backstage's own identity in the clusters (mlflow.health.secretReader): the deploy action lets
 * it `get` each instance's health Secret and nothing else.
 */
export function readHealthSecretReader(
  config: Config,
): SecretReaderSubject | undefined {
  const reader = config.getOptionalConfig(SECRET_READER_KEY);
  if (!reader) {
    return undefined;
  }
  const kind = reader.getString('kind');
  if (!(SECRET_READER_KINDS as readonly string[]).includes(kind)) {
    throw new Error(
      `Invalid ${SECRET_READER_KEY}.kind: received ${describeReceived(
        kind,
      )}. Accepted: ${SECRET_READER_KINDS.join(', ')}.`,
    );
  }
  const name = reader.getString('name');
  const namespace = reader.getOptionalString('namespace');
  if (kind === 'ServiceAccount') {
    if (!namespace) {
      throw new Error(
        `Invalid ${SECRET_READER_KEY}.namespace: received nothing, but a ServiceAccount needs its namespace. Accepted: the namespace Backstage's ServiceAccount lives in.`,
      );
    }
    validateName(
      nameRules.kubernetesNamespace,
      `${SECRET_READER_KEY}.namespace`,
      namespace,
    );
    validateName(nameRules.kubernetesName, `${SECRET_READER_KEY}.name`, name);
    return { kind, name, namespace };
  }
  return { kind: kind as SecretReaderSubject['kind'], name };
}

/**
 * Milliseconds between looks at an RDS instance or snapshot while waiting for it
 * (mlflow.provisioning.rdsPollIntervalSeconds); undefined keeps each action's default (15 s for
 * creation, minutes on AWS). A local stand-in for RDS is ready in seconds and asks for less.
 */
export function readRdsPollIntervalMs(config: Config): number | undefined {
  const seconds = config.getOptional(RDS_POLL_INTERVAL_KEY);
  if (seconds === undefined) {
    return undefined;
  }
  if (
    typeof seconds !== 'number' ||
    !(seconds > 0 && seconds <= RDS_POLL_INTERVAL_MAX_SECONDS)
  ) {
    throw new Error(
      `Invalid ${RDS_POLL_INTERVAL_KEY}: received ${describeReceived(
        seconds,
      )}. Accepted: a number of seconds greater than 0 and at most ${RDS_POLL_INTERVAL_MAX_SECONDS} (15 suits AWS; a local stand-in for RDS can take 1).`,
    );
  }
  return Math.round(seconds * 1000);
}
