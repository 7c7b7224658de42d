import { InputError } from '@backstage/errors';
import {
  AUTH_MODE_ANONYMOUS,
  AUTH_MODE_BASIC_AUTH,
  BACKEND_STORE_URI_KEY,
  describeReceived,
  nameRules,
  parseS3Uri,
  resolveInstanceNames,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import {
  BackendStore,
  MlflowAuth,
  MlflowManifestOptions,
  sizeConnectionPools,
} from './renderMlflowManifests';

/** Environment variables that look like credentials: extraEnv lands in a ConfigMap. */
const SECRET_LIKE_ENV =
  /(SECRET|PASSWORD|TOKEN|ACCESS_KEY|PRIVATE|CREDENTIAL)/i;

/** The deploy action's input, schema defaults filled in. */
export type DeployInput = Omit<
  MlflowManifestOptions,
  | 'namespace'
  | 'serviceAccountName'
  | 'backendStore'
  | 'migrationTimeoutSeconds'
  | 'migrationsSideBySide'
  | 'auth'
  | 'healthSecretReader'
> & {
  namespace?: string;
  serviceAccountName?: string;
  databaseSecretName?: string;
  backendStoreUri?: string;
  allowEphemeralStorage: boolean;
  /** Turns MLflow's sign-in off; refused in prod. */
  allowAnonymousAccess: boolean;
  authSecretName?: string;
  healthSecretName?: string;
  timeoutSeconds: number;
};

/** A validated deployment: the renderer's options and why its storage is ephemeral, if it is. */
export type DeployPlan = {
  manifestOptions: MlflowManifestOptions;
  /** Empty for a real (RDS + S3) instance. */
  ephemeralReasons: string[];
};

function invalid(field: string, value: unknown, accepted: string): never {
  throw new InputError(
    `Invalid ${field}: received ${describeReceived(
      value,
    )}. Accepted: ${accepted}.`,
  );
}

function checkOptionalNames(input: DeployInput) {
  const optional = [
    ['tlsSecretName', input.tlsSecretName, nameRules.kubernetesName],
    ['tlsClusterIssuer', input.tlsClusterIssuer, nameRules.kubernetesName],
    ['authSecretName', input.authSecretName, nameRules.kubernetesName],
    ['healthSecretName', input.healthSecretName, nameRules.kubernetesName],
    ['ingressClassName', input.ingressClassName, nameRules.kubernetesName],
    ['serviceAccountName', input.serviceAccountName, nameRules.kubernetesName],
    ['databaseSecretName', input.databaseSecretName, nameRules.kubernetesName],
    ['region', input.region, nameRules.awsRegion],
    ['rdsInstanceId', input.rdsInstanceId, nameRules.rdsInstanceIdentifier],
    ['databaseName', input.databaseName, nameRules.postgresDatabaseName],
    ['system', input.system, nameRules.labelValue],
    ['roleArn', input.roleArn, nameRules.iamRoleArn],
  ] as const;
  for (const [field, value, rule] of optional) {
    if (value) {
      validateName(rule, field, value);
    }
  }
  if (input.awsAccountId && !/^\d{12}$/.test(input.awsAccountId)) {
    invalid('awsAccountId', input.awsAccountId, 'a 12-digit AWS account id');
  }
  input.allowedClientNamespaces.forEach((ns, i) =>
    validateName(nameRules.kubernetesName, `allowedClientNamespaces[${i}]`, ns),
  );
  validateName(
    nameRules.kubernetesName,
    'ingressControllerNamespace',
    input.ingressControllerNamespace,
  );
}

function checkSizing(input: DeployInput) {
  for (const field of ['cpuRequest', 'memoryRequest', 'memoryLimit'] as const) {
    validateName(nameRules.kubernetesQuantity, field, input[field]);
  }
  validateName(nameRules.nginxSize, 'proxyBodySize', input.proxyBodySize);
  if (input.environment === 'prod' && input.replicas < 2) {
    invalid(
      'replicas',
      input.replicas,
      'at least 2 in prod, so that a pod restart or a node drain keeps the server up',
    );
  }
  if (!sizeConnectionPools(input)) {
    throw new InputError(
      `Invalid replicas/workers: ${input.replicas} replicas × ${input.workers} workers (plus one surge pod and the migration) do not fit in dbMaxConnections ${input.dbMaxConnections} with at least 2 connections each. Accepted: fewer replicas or workers, or a larger dbMaxConnections.`,
    );
  }
}

function checkExtraEnv(extraEnv: Record<string, string>) {
  for (const key of Object.keys(extraEnv)) {
    validateName(nameRules.envVarName, 'extraEnv key', key);
    if (key === BACKEND_STORE_URI_KEY) {
      invalid(
        'extraEnv key',
        key,
        `any other name: ${BACKEND_STORE_URI_KEY} comes from the database Secret`,
      );
    }
    if (SECRET_LIKE_ENV.test(key)) {
      invalid(
        'extraEnv key',
        key,
        'non-secret settings only: extraEnv lands in a ConfigMap, so credentials never go there (the server reaches AWS through its IAM role)',
      );
    }
  }
}

/** Checks the artifact destination; a local path is ephemeral, anything else must be S3. */
function checkArtifacts(artifacts: string, ephemeralReasons: string[]) {
  if (artifacts.startsWith('/') || artifacts.startsWith('file:')) {
    ephemeralReasons.push(`artifacts on the pod's local disk (${artifacts})`);
    return;
  }
  const s3 = parseS3Uri(artifacts);
  if (!s3 || !artifacts.startsWith('s3://')) {
    invalid(
      'artifactsDestination',
      artifacts,
      's3://<bucket>/<prefix> (the artifactRoot output of mlflow:s3:create)',
    );
  }
  validateName(
    nameRules.s3BucketName,
    'artifactsDestination bucket',
    s3.bucket,
  );
}

/** The backend store: the database Secret, or an inline sqlite URI for ephemeral storage only. */
function backendStoreOf(
  input: DeployInput,
  databaseSecretName: string,
  ephemeralReasons: string[],
): BackendStore {
  const uri = input.backendStoreUri;
  if (!uri) {
    return { kind: 'secret', secretName: databaseSecretName };
  }
  const scheme = uri.split(':')[0];
  if (!/^(sqlite:|file:)/.test(uri)) {
    // The scheme only: the URI itself may hold a password.
    throw new InputError(
      `Invalid backendStoreUri: received a ${scheme} URI, but a real backend store URI is never written into a manifest: it is read from the database Secret (databaseSecretName, written by mlflow:database:create). Accepted: leave backendStoreUri empty, or a sqlite:/// URI with allowEphemeralStorage.`,
    );
  }
  ephemeralReasons.push(`a ${scheme} backend store in the pod (${uri})`);
  return { kind: 'ephemeral', uri };
}

/** The refusal of a boolean setting, its value spelled out. */
function invalidFlag(field: string, value: boolean, accepted: string): never {
  throw new InputError(
    `Invalid ${field}: received ${value}. Accepted: ${accepted}.`,
  );
}

/** Refuses anonymous access in prod: the plan and the deploy step share this rule. */
export function checkAnonymousAccess(o: {
  environment: string;
  allowAnonymousAccess: boolean;
}) {
  if (o.allowAnonymousAccess && o.environment === 'prod') {
    invalidFlag(
      'allowAnonymousAccess',
      true,
      'false in prod: a production tracking server always requires sign-in (MLflow basic-auth)',
    );
  }
}

/** Sign-in on (basic-auth) unless anonymous access is asked for, which prod and inline stores refuse. */
function authOf(
  input: DeployInput,
  names: { authSecretName: string; healthSecretName: string },
  inlineBackendStore: boolean,
): MlflowAuth {
  if (!input.allowAnonymousAccess) {
    if (inlineBackendStore) {
      invalidFlag(
        'allowAnonymousAccess',
        false,
        'true with an inline backendStoreUri: the sign-in database and its Secret come from mlflow:database:create, which a throw-away server does not have',
      );
    }
    return {
      mode: AUTH_MODE_BASIC_AUTH,
      secretName: names.authSecretName,
      healthSecretName: names.healthSecretName,
    };
  }
  checkAnonymousAccess(input);
  return { mode: AUTH_MODE_ANONYMOUS };
}

/**
 * Validates every input of the deploy action before anything is sent anywhere (an InputError
 * naming the field, the value and what is accepted) and resolves the instance's names.
 */
export function validateDeployInput(input: DeployInput): DeployPlan {
  const name = validateName(nameRules.instanceName, 'name', input.name);
  const names = resolveInstanceNames({
    name,
    namespace: input.namespace,
    databaseSecretName: input.databaseSecretName,
    serviceAccountName: input.serviceAccountName,
    authSecretName: input.authSecretName,
    healthSecretName: input.healthSecretName,
  });
  validateName(nameRules.kubernetesNamespace, 'namespace', names.namespace);
  validateName(nameRules.clusterName, 'cluster', input.cluster);
  const image = validateName(nameRules.containerImage, 'image', input.image);
  const hostname = validateName(nameRules.hostname, 'hostname', input.hostname);
  checkOptionalNames(input);
  checkSizing(input);
  checkExtraEnv(input.extraEnv);

  const ephemeralReasons: string[] = [];
  checkArtifacts(input.artifactsDestination, ephemeralReasons);
  const backendStore = backendStoreOf(
    input,
    names.databaseSecretName,
    ephemeralReasons,
  );
  if (ephemeralReasons.length > 0 && !input.allowEphemeralStorage) {
    throw new InputError(
      `Refusing ephemeral storage: ${ephemeralReasons.join(
        ' and ',
      )}. Kubernetes pods are ephemeral: a restart wipes every experiment, run and artifact stored in them. Accepted: the database Secret from mlflow:database:create and artifactsDestination s3://bucket/prefix, or allowEphemeralStorage: true for a throw-away demonstration.`,
    );
  }
  const auth = authOf(input, names, backendStore.kind === 'ephemeral');
  return {
    manifestOptions: {
      name,
      namespace: names.namespace,
      cluster: input.cluster,
      image,
      hostname,
      tlsSecretName: input.tlsSecretName,
      tlsClusterIssuer: input.tlsClusterIssuer,
      ingressClassName: input.ingressClassName,
      environment: input.environment,
      replicas: input.replicas,
      workers: input.workers,
      serviceAccountName: names.serviceAccountName,
      roleArn: input.roleArn,
      region: input.region,
      awsAccountId: input.awsAccountId,
      owner: input.owner,
      system: input.system,
      description: input.description,
      rdsInstanceId: input.rdsInstanceId,
      databaseName: input.databaseName,
      backendStore,
      artifactsDestination: input.artifactsDestination,
      dbMaxConnections: input.dbMaxConnections,
      cpuRequest: input.cpuRequest,
      memoryRequest: input.memoryRequest,
      memoryLimit: input.memoryLimit,
      proxyBodySize: input.proxyBodySize,
      proxyTimeoutSeconds: input.proxyTimeoutSeconds,
      ingressControllerNamespace: input.ingressControllerNamespace,
      allowedClientNamespaces: input.allowedClientNamespaces,
      extraEnv: input.extraEnv,
      runAsUser: input.runAsUser,
      migrationTimeoutSeconds: input.timeoutSeconds,
      auth,
    },
    ephemeralReasons,
  };
}
