import { ActionsRegistryActionOptions } from '@backstage/backend-plugin-api/alpha';
import {
  MLFLOW_CHECK_IDS,
  MlflowHealthReport,
} from '@stateful-mlflow/plugin-mlflow-common';
import { z } from 'zod/v3';
import { MlflowHealthService } from '../service/MlflowHealthService';

const inputSchema = (zod: typeof z) =>
  zod.object({
    entityRef: zod
      .string()
      .describe(
        'Entity ref of the MLflow instance, e.g. component:default/mlflow-prod',
      ),
    refresh: zod
      .boolean()
      .optional()
      .describe(
        'Check now instead of using a recent cached report (rate-limited per instance)',
      ),
  });

const outputSchema = (zod: typeof z) =>
  zod.object({
    entityRef: zod.string(),
    overall: zod
      .enum(['healthy', 'degraded', 'unhealthy', 'unknown'])
      .describe('Overall state derived from the checks'),
    checkedAt: zod.string().describe('When the checks ran (ISO 8601)'),
    checks: zod
      .array(
        zod.object({
          id: zod.enum(MLFLOW_CHECK_IDS),
          status: zod.enum(['ok', 'warning', 'error', 'unknown']),
          summary: zod.string(),
          details: zod.record(zod.unknown()).optional(),
          latencyMs: zod.number(),
        }),
      )
      .describe('Tracking server, database, artifact store and Kubernetes'),
    links: zod.array(zod.object({ title: zod.string(), url: zod.string() })),
  });

/**
 * `get-instance-health`: the health report of one MLflow instance, for MCP clients. Runs as the
 * caller, so the catalog visibility and the permission apply exactly as on the HTTP API.
 */
export function createGetInstanceHealthAction(options: {
  health: MlflowHealthService;
}): ActionsRegistryActionOptions<
  ReturnType<typeof inputSchema>,
  ReturnType<typeof outputSchema>
> {
  return {
    name: 'get-instance-health',
    title: 'Get MLflow instance health',
    description:
      'Returns the health report of an MLflow tracking server registered in the catalog: the server itself, ' +
      'its RDS database, its S3 artifact store and its Kubernetes Deployment, each with a status and a summary, ' +
      'and an overall state (healthy, degraded, unhealthy, unknown).',
    schema: { input: inputSchema, output: outputSchema },
    attributes: { readOnly: true, idempotent: true, destructive: false },
    examples: [
      {
        title: 'Health of the production MLflow',
        input: { entityRef: 'component:default/mlflow-prod' },
      },
    ],
    action: async ({ input, credentials }) => {
      const report: MlflowHealthReport = await options.health.getReport(
        input.entityRef,
        { credentials, refresh: input.refresh },
      );
      return {
        output: {
          ...report,
          checks: report.checks.map(check => ({
            ...check,
            details: check.details as Record<string, unknown> | undefined,
          })),
        },
      };
    },
  };
}
