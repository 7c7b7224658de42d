import { eventually } from './eventually';

/** Entity kinds and names as the catalog's by-name route takes them. */
export type EntityName = { kind: string; namespace?: string; name: string };

/** Reads an entity from the catalog of a running backend; undefined when it is not there (404). */
export async function getEntity<T = Record<string, unknown>>(
  baseUrl: string,
  token: string,
  { kind, namespace = 'default', name }: EntityName,
): Promise<T | undefined> {
  const res = await fetch(
    `${baseUrl}/api/catalog/entities/by-name/${encodeURIComponent(
      kind,
    )}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`,
    { headers: { Authorization: `Bearer ${token}` } },
  );
  if (res.status === 404) {
    return undefined;
  }
  if (!res.ok) {
    throw new Error(`Catalog read of ${kind}:${name} failed: ${res.status}`);
  }
  return (await res.json()) as T;
}

/** Waits until the catalog has ingested the entity (e.g. a template right after the backend started). */
export async function waitForEntity<T = Record<string, unknown>>(
  baseUrl: string,
  token: string,
  entity: EntityName,
  timeoutMs = 120_000,
): Promise<T> {
  return eventually(
    async () => {
      const found = await getEntity<T>(baseUrl, token, entity);
      if (!found) {
        throw new Error(
          `${entity.kind}:${entity.namespace ?? 'default'}/${
            entity.name
          } is not in the catalog after ${timeoutMs} ms`,
        );
      }
      return found;
    },
    { timeoutMs, intervalMs: 1_000 },
  );
}
