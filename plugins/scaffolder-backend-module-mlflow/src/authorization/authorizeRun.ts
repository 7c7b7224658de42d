import { BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  DEFAULT_NAMESPACE,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { parseEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  authorizeInstanceChange,
  InstanceChangeAuthorizationDeps,
} from './authorizeInstanceChange';

/** An existing resource of the instance whose identity was verified, and the owner it records. */
export type ExistingResource = { resource: string; owner?: string };

/** Owners are recorded in full, lower-case form (`group:default/team-a`). */
export function normalizeOwner(owner: string, field = 'owner'): string {
  try {
    return stringifyEntityRef(
      parseEntityRef(owner, {
        defaultKind: 'group',
        defaultNamespace: DEFAULT_NAMESPACE,
      }),
    ).toLocaleLowerCase('en-US');
  } catch {
    throw new InputError(
      `Invalid ${field}: received ${JSON.stringify(
        owner,
      )}. Accepted: an entity reference such as group:default/team-a.`,
    );
  }
}

function initiatorUserRef(credentials: BackstageCredentials) {
  const principal = credentials.principal as
    | { type?: string; userEntityRef?: string }
    | undefined;
  return principal?.type === 'user' ? principal.userEntityRef : undefined;
}

/**
 * Authorizes the task's initiator for this run of an action on the instance `name`, before its
 * first change (in dry-run too), from the resources the action found: none is a creation, any is
 * a change that needs update on the entity or membership of each owner they record. Returns the
 * owner to record on what the run writes: the requested one, else the current one, else (a new
 * instance) the initiator.
 */
export async function authorizeRun(options: {
  deps: InstanceChangeAuthorizationDeps;
  credentials: BackstageCredentials;
  name: string;
  requestedOwner?: string;
  existing: ExistingResource[];
  log: (message: string) => void;
}): Promise<{ owner: string }> {
  const { name, existing, credentials } = options;
  const requested =
    options.requestedOwner && normalizeOwner(options.requestedOwner);
  const recordedOwners = [
    ...new Set(
      existing.flatMap(r =>
        r.owner ? [normalizeOwner(r.owner, `owner of ${r.resource}`)] : [],
      ),
    ),
  ];
  const fallbackOwner =
    requested ?? recordedOwners[0] ?? initiatorUserRef(credentials);
  if (!fallbackOwner) {
    throw new InputError(
      `Missing owner: received nothing for MLflow instance "${name}", and neither its resources nor the initiator name one. Accepted: an entity reference such as group:default/team-a.`,
    );
  }
  // Every recorded owner must be satisfied: resources that disagree are all checked.
  const checks = recordedOwners.length > 0 ? recordedOwners : [undefined];
  let currentOwner: string | undefined;
  for (const recordedOwner of checks) {
    const decision = await authorizeInstanceChange(options.deps, credentials, {
      name,
      owner: requested ?? recordedOwner ?? fallbackOwner,
      exists: existing.length > 0,
      recordedOwner,
    });
    currentOwner ??= decision.currentOwner;
    options.log(
      `${decision.initiator} may ${
        decision.kind === 'create' ? 'create' : 'change'
      } MLflow instance ${name}${
        decision.currentOwner ? ` (owned by ${decision.currentOwner})` : ''
      }`,
    );
  }
  return { owner: requested ?? currentOwner ?? fallbackOwner };
}

/**
 * Authorizes the task's initiator to decommission the instance `name` before its first deletion
 * (in dry-run too): `mlflow.instance.delete` on its entity while the entity exists, else
 * membership of every owner its remaining resources record. With nothing left there is nothing
 * to delete and nothing to decide. Returns the owner the instance records.
 */
export async function authorizeDecommission(options: {
  deps: InstanceChangeAuthorizationDeps;
  credentials: BackstageCredentials;
  name: string;
  existing: ExistingResource[];
  log: (message: string) => void;
}): Promise<{ owner?: string }> {
  const { name, existing, credentials } = options;
  const recordedOwners = [
    ...new Set(
      existing.flatMap(r =>
        r.owner ? [normalizeOwner(r.owner, `owner of ${r.resource}`)] : [],
      ),
    ),
  ];
  const checks = recordedOwners.length > 0 ? recordedOwners : [undefined];
  let owner: string | undefined;
  for (const recordedOwner of checks) {
    const decision = await authorizeInstanceChange(options.deps, credentials, {
      name,
      owner: recordedOwner ?? initiatorUserRef(credentials) ?? 'unknown',
      exists: existing.length > 0,
      recordedOwner,
      action: 'delete',
    });
    owner ??= decision.currentOwner;
    if (decision.currentOwner || existing.length > 0) {
      options.log(
        `${decision.initiator} may decommission MLflow instance ${name}${
          decision.currentOwner ? ` (owned by ${decision.currentOwner})` : ''
        }`,
      );
    }
  }
  return { owner };
}
