import { LoggerService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  ANNOTATION_MLFLOW_TRUSTED,
  MlflowCheckId,
  MlflowHealthCheck,
  MlflowHealthReport,
  getMlflowEntityInfo,
} from '@stateful-mlflow/plugin-mlflow-common';
import {
  CheckInput,
  CheckOutcome,
  HealthCheck,
  messageOf,
} from './checks/types';
import { identityOf, isTrustedEntity } from './instanceIdentity';
import { overallStatus } from './overallStatus';
import { linksOf } from './requestParts';

/** Checks that read the entity's AWS identifiers or tracking URL: only for trusted entities. */
const NEEDS_TRUST = new Set<MlflowCheckId>([
  'trackingServer',
  'database',
  'artifactStore',
]);

/**
 * Runs every check of one instance in parallel, each under `checkTimeoutMs`, and assembles the
 * report; an untrusted entity's annotations drive no check that reads them.
 */
export async function computeHealthReport(options: {
  entityRef: string;
  entity: Entity;
  checks: HealthCheck<MlflowCheckId>[];
  checkTimeoutMs: number;
  logger: LoggerService;
}): Promise<MlflowHealthReport> {
  const { entityRef, entity } = options;
  const info = getMlflowEntityInfo(entity);
  const trusted = isTrustedEntity(entity);
  const identity = identityOf(entity);
  const checks = await Promise.all(
    options.checks.map(check =>
      !trusted && NEEDS_TRUST.has(check.id)
        ? untrustedCheck(check.id)
        : runCheck(check, { entity, info, identity }, options),
    ),
  );
  return {
    entityRef,
    overall: overallStatus(checks),
    checkedAt: new Date().toISOString(),
    checks,
    // Links of an untrusted entity would point at whatever its annotations claim.
    links: trusted ? linksOf(info) : [],
  };
}

/** Runs one check under the timeout; a hanging peer costs the timeout, never more. */
async function runCheck(
  check: HealthCheck<MlflowCheckId>,
  input: Omit<CheckInput, 'signal' | 'log'>,
  options: { checkTimeoutMs: number; logger: LoggerService },
): Promise<MlflowHealthCheck> {
  const ref = stringifyEntityRef(input.entity);
  const log = (message: string) =>
    options.logger.warn(`MLflow ${check.id} check of ${ref}: ${message}`);
  const started = performance.now();
  const controller = new AbortController();
  const timeoutMs = options.checkTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<CheckOutcome<MlflowCheckId>>(resolve => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({
        status: 'error',
        summary: `No answer within ${timeoutMs} ms.`,
      });
    }, timeoutMs);
  });
  try {
    const outcome = await Promise.race([
      check
        .run({ ...input, signal: controller.signal, log })
        .catch((error: unknown): CheckOutcome<MlflowCheckId> => {
          log(`failed: ${messageOf(error)}`);
          return {
            status: 'error',
            summary: 'Check failed; the error is in the backend log.',
          };
        }),
      timedOut,
    ]);
    return {
      id: check.id,
      ...outcome,
      latencyMs: Math.round(performance.now() - started),
    } as MlflowHealthCheck;
  } finally {
    clearTimeout(timer);
  }
}

/** The outcome of a check that an untrusted entity's annotations may not drive. */
function untrustedCheck(id: MlflowCheckId): MlflowHealthCheck {
  return {
    id,
    status: 'unknown',
    summary: `Not checked: the entity is not marked ${ANNOTATION_MLFLOW_TRUSTED} by the MLflow entity provider, so its tracking URL and AWS identifiers are not used.`,
    latencyMs: 0,
  } as MlflowHealthCheck;
}
