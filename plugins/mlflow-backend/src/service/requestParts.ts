import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  MlflowEntityInfo,
  MlflowLink,
  describeReceived,
} from '@stateful-mlflow/plugin-mlflow-common';
import { displayTrackingUrl } from './checks/trackingServerCheck';
import { messageOf } from './checks/types';

/** Most refs one fleet request may ask for. */
const MAX_FLEET_ENTITY_REFS = 1000;

/** The refs of a request, validated and in canonical form; an InputError naming the bad item. */
export function normaliseRefs(entityRefs: unknown): string[] {
  if (!Array.isArray(entityRefs) || entityRefs.length === 0) {
    throw new InputError(
      `Invalid entityRefs: received ${
        Array.isArray(entityRefs)
          ? 'an empty list'
          : describeReceived(entityRefs)
      }, but it must be a list of 1 to ${MAX_FLEET_ENTITY_REFS} entity refs such as component:default/mlflow-prod.`,
    );
  }
  if (entityRefs.length > MAX_FLEET_ENTITY_REFS) {
    throw new InputError(
      `Invalid entityRefs: received ${entityRefs.length} refs, but at most ${MAX_FLEET_ENTITY_REFS} are accepted per request.`,
    );
  }
  return entityRefs.map((ref, index) => {
    try {
      if (typeof ref !== 'string') {
        throw new TypeError('it must be a string');
      }
      return stringifyEntityRef(parseEntityRef(ref));
    } catch (error) {
      throw new InputError(
        `Invalid entityRefs[${index}]: received ${describeReceived(
          ref,
        )}, but ${messageOf(
          error,
        )}. Accepted: an entity ref such as component:default/mlflow-prod.`,
      );
    }
  });
}

/** Links to the tracking server's UI and the instance's AWS console pages. */
export function linksOf(info: MlflowEntityInfo): MlflowLink[] {
  const links: MlflowLink[] = [];
  const ui = info.trackingUrl
    ? displayTrackingUrl(info.trackingUrl)
    : undefined;
  if (ui) {
    links.push({ title: 'MLflow UI', url: ui });
  }
  const region = info.awsRegion
    ? encodeURIComponent(info.awsRegion)
    : undefined;
  if (region && info.rdsInstanceId) {
    links.push({
      title: 'RDS instance (AWS console)',
      url: `https://${region}.console.aws.amazon.com/rds/home?region=${region}#database:id=${encodeURIComponent(
        info.rdsInstanceId,
      )}`,
    });
  }
  if (region && info.bucket) {
    links.push({
      title: 'S3 bucket (AWS console)',
      url: `https://s3.console.aws.amazon.com/s3/buckets/${encodeURIComponent(
        info.bucket,
      )}?region=${region}`,
    });
  }
  return links;
}
