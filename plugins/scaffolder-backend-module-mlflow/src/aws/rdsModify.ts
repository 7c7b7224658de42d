import {
  DBInstance,
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { LoggerService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  describeReceived,
  nameRules,
  OWNERSHIP_TAG_KEY,
  PRODUCTION_MIN_BACKUP_RETENTION_DAYS,
  rangeRules,
  rdsStorageChangeProblem,
  validateName,
  validateRange,
} from '@stateful-mlflow/plugin-mlflow-common';
import { waitFor } from '../util/waitFor';
import { callAws } from './awsErrors';
import { AwsClientConfigProvider } from './clients';
import { describeDbInstance } from './rds';
import { taggedIdentity } from './tags';

/** The settings of an RDS instance that an upgrade may change; undefined keeps today's. */
export type RdsSettingsChange = {
  instanceClass?: string;
  allocatedStorageGiB?: number;
  backupRetentionDays?: number;
  deletionProtection?: boolean;
};

/**
 * Checks the requested settings against the shared rules and against what RDS accepts from this
 * instance (storage only grows, by 10 % or more; prod keeps a week of backups). Before any call
 * that changes anything.
 */
export function validateRdsSettingsChange(
  input: RdsSettingsChange,
  instance?: DBInstance,
  environment?: string,
): RdsSettingsChange {
  const change: RdsSettingsChange = {};
  if (input.instanceClass !== undefined) {
    change.instanceClass = validateName(
      nameRules.rdsInstanceClass,
      'instanceClass',
      input.instanceClass,
    );
  }
  if (input.allocatedStorageGiB !== undefined) {
    const storage = validateRange(
      rangeRules.rdsAllocatedStorageGiB,
      'allocatedStorageGiB',
      input.allocatedStorageGiB,
    );
    const current = instance?.AllocatedStorage;
    const problem =
      current !== undefined && rdsStorageChangeProblem(current, storage);
    if (problem) {
      throw new InputError(
        `Invalid allocatedStorageGiB: received ${storage}, but ${problem}. Accepted: ${current} (no change), or 10 % more or above, up to ${rangeRules.rdsAllocatedStorageGiB.maximum} GiB.`,
      );
    }
    change.allocatedStorageGiB = storage;
  }
  if (input.backupRetentionDays !== undefined) {
    const days = validateRange(
      rangeRules.rdsBackupRetentionDays,
      'backupRetentionDays',
      input.backupRetentionDays,
    );
    if (environment === 'prod' && days < PRODUCTION_MIN_BACKUP_RETENTION_DAYS) {
      throw new InputError(
        `Invalid backupRetentionDays: received ${days}, but the instance is a prod instance. Accepted: ${PRODUCTION_MIN_BACKUP_RETENTION_DAYS} to ${rangeRules.rdsBackupRetentionDays.maximum} days in prod.`,
      );
    }
    change.backupRetentionDays = days;
  }
  if (input.deletionProtection !== undefined) {
    change.deletionProtection = input.deletionProtection;
  }
  return change;
}

/** One setting that changes: what the plan and the task log show, and what RDS is asked. */
export type RdsSettingChange = {
  setting: keyof RdsSettingsChange;
  label: string;
  from?: string | number | boolean;
  to: string | number | boolean;
  /** When RDS applies it: now, or in the instance's next maintenance window. */
  when: 'at once' | 'in the maintenance window';
  /** Why it is applied at once although the window was chosen (RDS's own rule). */
  why?: string;
};

const LABELS: Record<keyof RdsSettingsChange, string> = {
  instanceClass: 'instance class',
  allocatedStorageGiB: 'allocated storage (GiB)',
  backupRetentionDays: 'backup retention (days)',
  deletionProtection: 'deletion protection',
};

/** Today's value of a setting, with what RDS holds pending for the window in front. */
function currentValues(instance: DBInstance) {
  const pending = instance.PendingModifiedValues ?? {};
  return {
    now: {
      instanceClass: instance.DBInstanceClass,
      allocatedStorageGiB: instance.AllocatedStorage,
      backupRetentionDays: instance.BackupRetentionPeriod,
      deletionProtection: instance.DeletionProtection,
    } as RdsSettingsChange,
    pending: {
      instanceClass: pending.DBInstanceClass,
      allocatedStorageGiB: pending.AllocatedStorage,
      backupRetentionDays: pending.BackupRetentionPeriod,
    } as RdsSettingsChange,
  };
}

/**
 * What changes when `change` is asked of `instance`, one entry per setting, in RDS's terms: class
 * and storage wait for the maintenance window unless `applyImmediately`; deletion protection and a
 * backup retention change between non-zero values are applied at once whatever is asked. A value
 * already pending for the window counts as asked already (nothing to do) unless it is to be
 * applied immediately now.
 */
export function rdsSettingChanges(
  instance: DBInstance,
  change: RdsSettingsChange,
  applyImmediately: boolean,
): RdsSettingChange[] {
  const { now, pending } = currentValues(instance);
  const changes: RdsSettingChange[] = [];
  for (const setting of Object.keys(LABELS) as Array<keyof RdsSettingsChange>) {
    const to = change[setting];
    if (to === undefined) {
      continue;
    }
    const from = now[setting];
    const alreadyPending = pending[setting] === to && !applyImmediately;
    if (from === to || alreadyPending) {
      continue;
    }
    let when: RdsSettingChange['when'] = applyImmediately
      ? 'at once'
      : 'in the maintenance window';
    let why: string | undefined;
    if (setting === 'deletionProtection') {
      when = 'at once';
      why = applyImmediately
        ? undefined
        : 'RDS applies deletion protection immediately';
    } else if (
      setting === 'backupRetentionDays' &&
      !applyImmediately &&
      (from ?? 0) !== 0
    ) {
      when = 'at once';
      why =
        'RDS applies a retention change between non-zero values immediately';
    }
    changes.push({
      setting,
      label: LABELS[setting],
      ...(from !== undefined ? { from } : {}),
      to,
      when,
      ...(why ? { why } : {}),
    });
  }
  return changes;
}

/** A change as one plan line: `instance class db.t4g.micro → db.t4g.small (in the maintenance window)`. */
export function describeRdsSettingChange(change: RdsSettingChange): string {
  const show = (value: unknown) => {
    if (typeof value === 'boolean') {
      return value ? 'on' : 'off';
    }
    return String(value);
  };
  return `${change.label} ${
    change.from === undefined ? 'unknown' : show(change.from)
  } → ${show(change.to)} (${change.when}${
    change.why ? `: ${change.why}` : ''
  })`;
}

/** Asks RDS for the changes; RDS answers at once and applies them on its own time. */
export async function modifyRdsInstance(
  rds: RDSClient,
  instanceId: string,
  changes: RdsSettingChange[],
  applyImmediately: boolean,
): Promise<DBInstance | undefined> {
  const value = (setting: keyof RdsSettingsChange) =>
    changes.find(c => c.setting === setting)?.to;
  const result = await callAws(
    'rds:ModifyDBInstance',
    `RDS instance "${instanceId}"`,
    () =>
      rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: instanceId,
          ApplyImmediately: applyImmediately,
          DBInstanceClass: value('instanceClass') as string | undefined,
          AllocatedStorage: value('allocatedStorageGiB') as number | undefined,
          BackupRetentionPeriod: value('backupRetentionDays') as
            | number
            | undefined,
          DeletionProtection: value('deletionProtection') as
            | boolean
            | undefined,
        }),
      ),
  );
  return result.DBInstance;
}

/** Whether the instance shows every change as applied (available, the values in place, none pending). */
export function modificationApplied(
  instance: DBInstance,
  changes: RdsSettingChange[],
): { done: boolean; status: string } {
  const { now, pending } = currentValues(instance);
  const missing = changes.filter(
    c => now[c.setting] !== c.to || pending[c.setting] !== undefined,
  );
  const state = instance.DBInstanceStatus ?? 'unknown';
  if (state === 'available' && missing.length === 0) {
    return { done: true, status: state };
  }
  return {
    done: false,
    status: `${state}${
      missing.length > 0
        ? `; not yet applied: ${missing.map(c => c.label).join(', ')}`
        : ''
    }`,
  };
}

/**
 * Polls until the instance is available with every change applied, a progress line at least every
 * 30 s, bounded by `timeoutSeconds` and stopped on cancel.
 */
export function waitForRdsModification(
  rds: RDSClient,
  instanceId: string,
  changes: RdsSettingChange[],
  options: {
    timeoutSeconds: number;
    logger: LoggerService;
    signal?: AbortSignal;
    pollIntervalMs: number;
  },
): Promise<DBInstance> {
  return waitFor({
    what: `RDS instance ${instanceId} to apply ${changes
      .map(c => c.label)
      .join(', ')}`,
    timeoutSeconds: options.timeoutSeconds,
    logger: options.logger,
    signal: options.signal,
    pollIntervalMs: options.pollIntervalMs,
    check: async () => {
      const instance = await describeDbInstance(rds, instanceId);
      if (!instance) {
        return { done: false, status: 'not visible' };
      }
      const applied = modificationApplied(instance, changes);
      return applied.done
        ? { done: true, value: instance }
        : { done: false, status: applied.status };
    },
  });
}

/**
 * The RDS lines of the plan: reads the instance the Deployment names (it must carry this
 * instance's tags), checks the asked settings against it and says when RDS applies each.
 */
export async function planRdsChanges(options: {
  aws: AwsClientConfigProvider;
  name: string;
  region?: string;
  instanceId?: string;
  requested: RdsSettingsChange;
  applyImmediately: boolean;
  liftDeletionProtection: boolean;
}): Promise<string[]> {
  const { name, region, instanceId } = options;
  if (!region || !instanceId) {
    throw new InputError(
      `Invalid instanceClass, allocatedStorageGiB, backupRetentionDays or deletionProtection: the MLflow Deployment ${name} records no RDS instance (region ${
        region ?? 'none'
      }, instance ${
        instanceId ?? 'none'
      }), so its database settings cannot be changed here.`,
    );
  }
  const rds = new RDSClient(await options.aws.forRegion({ region }));
  const instance = await describeDbInstance(rds, instanceId);
  if (!instance) {
    throw new InputError(
      `Invalid name: received ${describeReceived(
        name,
      )}, but its RDS instance ${instanceId} does not exist in ${region}. Nothing was changed.`,
    );
  }
  if (taggedIdentity(instance.TagList, name).kind === 'foreign') {
    throw new InputError(
      `Invalid name: received ${describeReceived(
        name,
      )}, but RDS instance ${instanceId} was not created for it (it lacks the tag ${OWNERSHIP_TAG_KEY}=${name}). Nothing was changed.`,
    );
  }
  const environment = instance.TagList?.find(
    t => t.Key === 'environment',
  )?.Value;
  const changes = rdsSettingChanges(
    instance,
    validateRdsSettingsChange(options.requested, instance, environment),
    options.applyImmediately,
  );
  if (
    changes.some(c => c.setting === 'deletionProtection' && !c.to) &&
    !options.liftDeletionProtection
  ) {
    throw new InputError(
      `Invalid deletionProtection: received false, but RDS instance ${instanceId} has deletion protection on. Nothing was changed. Set liftDeletionProtection as well (the owner's explicit choice, logged) to turn it off.`,
    );
  }
  return changes.map(describeRdsSettingChange);
}
