/**
 * Environment variable of the tracking server holding its backend-store URI, and the key of the
 * same value in the database Secret written by `mlflow:database:create`. The deploy action reads
 * it from that Secret; the catalog module finds the Secret through it.
 *
 * @public
 */
export const BACKEND_STORE_URI_KEY = 'MLFLOW_BACKEND_STORE_URI';
