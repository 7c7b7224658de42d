import { HttpAuthService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { describeReceived } from '@stateful-mlflow/plugin-mlflow-common';
import express from 'express';
import Router from 'express-promise-router';
import { MlflowHealthService } from './service/MlflowHealthService';

function readRefresh(value: unknown): boolean {
  if (value === undefined || value === 'false') {
    return false;
  }
  if (value === 'true') {
    return true;
  }
  throw new InputError(
    `Invalid refresh: received ${describeReceived(
      value,
    )}, but it must be true or false.`,
  );
}

export type RouterOptions = {
  httpAuth: HttpAuthService;
  health: MlflowHealthService;
};

/** The health API: one instance by entity ref, or many (fleet). */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { httpAuth, health } = options;
  const router = Router();
  router.use(express.json({ limit: '256kb' }));

  router.get('/v1/health/:namespace/:kind/:name', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const refresh = readRefresh(req.query.refresh);
    const { namespace, kind, name } = req.params;
    const report = await health.getReport(
      stringifyEntityRef({ kind, namespace, name }),
      { credentials, refresh },
    );
    res.json(report);
  });

  router.post('/v1/health', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const refresh = readRefresh(req.query.refresh);
    // The service validates the list and every ref, with messages naming the bad item.
    const entityRefs = req.body?.entityRefs as string[];
    res.json(await health.getReports(entityRefs, { credentials, refresh }));
  });

  return router;
}
