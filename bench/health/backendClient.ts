import { parseEntityRef } from '@backstage/catalog-model';
import http from 'node:http';

/** The options every health bench takes: the started backend and the instance's entity. */
export const targetOptions = {
  'base-url': {
    type: 'string',
    default: process.env.BACKEND_URL ?? 'http://localhost:7007',
  },
  entity: { type: 'string', default: 'component:default/demo' },
} as const;

/** The backend's URL and the entity's health and catalog routes, from the `targetOptions` given. */
export function benchTarget(args: { 'base-url'?: string; entity?: string }) {
  const entity = parseEntityRef(args.entity!);
  const kind = entity.kind.toLocaleLowerCase('en-US');
  return {
    baseUrl: new URL(args['base-url']!),
    healthPath: `/api/mlflow/v1/health/${entity.namespace}/${kind}/${entity.name}`,
    catalogPath: `/api/catalog/entities/by-name/${kind}/${entity.namespace}/${entity.name}`,
  };
}

/**
 * One keep-alive HTTP client for a started backend, shared by the health benches so that every
 * route they compare is called the same way.
 */
export function backendClient(baseUrl: URL) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  /** One request; resolves with its status once the whole body has arrived. */
  function call(
    path: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        { host: baseUrl.hostname, port: baseUrl.port, path, headers, agent },
        response => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', chunk => (body += chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, body }),
          );
        },
      );
      request.on('error', reject);
      request.end();
    });
  }

  /** `$BACKSTAGE_TOKEN` when set, else a guest token from the backend's guest provider. */
  async function token(): Promise<string> {
    if (process.env.BACKSTAGE_TOKEN) {
      return process.env.BACKSTAGE_TOKEN;
    }
    const { status, body } = await call('/api/auth/guest/refresh', {
      'x-requested-with': 'XMLHttpRequest',
    });
    if (status !== 200) {
      throw new Error(
        `No guest token from ${baseUrl.origin} (HTTP ${status}); set BACKSTAGE_TOKEN instead.`,
      );
    }
    return (JSON.parse(body) as { backstageIdentity: { token: string } })
      .backstageIdentity.token;
  }

  return { call, token, close: () => agent.destroy() };
}

/** The p-th percentile (nearest rank) of ascending `sorted`. */
export function percentile(sorted: number[], p: number): number {
  return sorted[
    Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
  ];
}

export const round1 = (n: number) => Math.round(n * 10) / 10;
