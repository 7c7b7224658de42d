import { LoggerService } from '@backstage/backend-plugin-api';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigReader } from '@backstage/config';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { JsonObject, JsonValue } from '@backstage/types';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  MlflowClusters,
  MlflowInstanceIdentityKeys,
} from '@stateful-mlflow/plugin-mlflow-node';
import {
  createKubernetesDeployAction,
  InstanceChangeAuthorizationDeps,
  kubernetesApiFromClusters,
  ProvisioningGuardRails,
} from '@stateful-mlflow/plugin-scaffolder-backend-module-mlflow';
import { parse } from 'yaml';

type DeployAction = ReturnType<typeof createKubernetesDeployAction>;

/** What one in-process run of the deploy action produced. */
export type DeployRun = {
  output: Record<string, JsonValue>;
  log: Array<{ level: string; message: string }>;
};

function recordingLogger(
  log: DeployRun['log'],
  print: (line: string) => void,
): LoggerService {
  const record = (level: string) => (message: string) => {
    log.push({ level, message });
    print(`[deploy ${level}] ${message}`);
  };
  const logger: LoggerService = {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: () => {},
    child: () => logger,
  };
  return logger;
}

/**
 * The operator running the action in this process: allowed everything, the catalog has no entity
 * for its throw-away instances. The tenancy itself is tested through the backend's endpoints.
 */
const operatorAuthorization: InstanceChangeAuthorizationDeps = {
  permissions: {
    authorize: async requests =>
      requests.map(() => ({ result: AuthorizeResult.ALLOW })),
    authorizeConditional: async requests =>
      requests.map(() => ({ result: AuthorizeResult.ALLOW })),
  },
  catalog: { getEntityByRef: async () => undefined },
  userInfo: {
    getUserInfo: async () => ({
      userEntityRef: 'user:default/mock',
      ownershipEntityRefs: ['user:default/mock'],
    }),
  },
};

/**
 * The `mlflow:kubernetes:deploy` action built the way the backend module builds it (clusters from
 * the same Backstage config), with its handler called in this process. For configurations the
 * production template never sends, such as the ephemeral demonstration.
 */
export class DeployActionInProcess {
  private readonly action: DeployAction;

  constructor(configPaths: string[], private readonly print = console.log) {
    const config = ConfigReader.fromConfigs(
      configPaths.map(path => ({
        context: path,
        data: parse(readFileSync(path, 'utf8')) as JsonObject,
      })),
    );
    this.action = createKubernetesDeployAction({
      kubernetes: kubernetesApiFromClusters(MlflowClusters.fromConfig(config)),
      authorization: operatorAuthorization,
      guardRails: ProvisioningGuardRails.fromConfig(config),
      identityKeys: MlflowInstanceIdentityKeys.fromConfig(config),
      pollIntervalMs: 1_000,
    });
  }

  /** The input as the scaffolder hands it over: schema defaults filled in for absent fields. */
  private withDefaults(input: JsonObject): JsonObject {
    const properties = (this.action.schema?.input?.properties ?? {}) as Record<
      string,
      { default?: JsonValue }
    >;
    const filled: JsonObject = { ...input };
    for (const [key, property] of Object.entries(properties)) {
      if (filled[key] === undefined && property.default !== undefined) {
        filled[key] = structuredClone(property.default);
      }
    }
    return filled;
  }

  async run(input: JsonObject): Promise<DeployRun> {
    const run: DeployRun = { output: {}, log: [] };
    // A workspace of our own, removed after the run (the test utils' default one is kept when CI
    // is set).
    const workspacePath = mkdtempSync(join(tmpdir(), 'mlflow-deploy-run-'));
    const ctx = {
      ...createMockActionContext({
        input: this.withDefaults(input),
        logger: recordingLogger(run.log, this.print),
        workspacePath,
      }),
      // the mock context ignores an `output` option
      output: (name: string, value: JsonValue) => {
        run.output[name] = value;
      },
    };
    try {
      await this.action.handler(
        ctx as unknown as Parameters<DeployAction['handler']>[0],
      );
    } finally {
      rmSync(workspacePath, { recursive: true, force: true });
    }
    return run;
  }
}
