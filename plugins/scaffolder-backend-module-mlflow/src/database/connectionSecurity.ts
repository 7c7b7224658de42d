import { LoggerService } from '@backstage/backend-plugin-api';
import { DatabaseEndpoint } from './databasePlan';

/**
 * Says how the step's own connection to PostgreSQL is secured, loudly when the master user's
 * password could be read or the server impersonated on the way.
 */
export function logConnectionSecurity(options: {
  endpoint: DatabaseEndpoint;
  overridden: boolean;
  caBundle?: string;
  logger: LoggerService;
}) {
  const { endpoint, logger } = options;
  const { host, port, sslMode, connectSslMode } = endpoint;
  if (options.overridden) {
    logger.info(
      `Connecting through mlflow.database.connectionOverride (${host}:${port}, sslmode=${sslMode}) instead of the RDS endpoint`,
    );
  }
  if (connectSslMode !== 'verify-full') {
    logger.warn(
      `The connection to PostgreSQL at ${host}:${port} is ${
        connectSslMode === 'disable'
          ? 'NOT encrypted'
          : "encrypted but its certificate is NOT verified (anyone in the path can pose as the server and read the master user's password)"
      }: mlflow.database.connectionOverride.sslMode is ${connectSslMode}. Acceptable for a local stand-in only; use verify-full with mlflow.database.caBundlePath everywhere else.`,
    );
  } else {
    logger.info(
      `Verifying the certificate of PostgreSQL at ${host} (verify-full) against ${
        options.caBundle
          ? 'mlflow.database.caBundlePath'
          : "Node's trust store (mlflow.database.caBundlePath is not set)"
      }`,
    );
  }
}
