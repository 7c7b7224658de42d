import { InputError } from '@backstage/errors';
import {
  ANNOTATION_MLFLOW_AWS_ACCOUNT_ID,
  ANNOTATION_MLFLOW_AWS_REGION,
  describeReceived,
  nameRules,
  validateName,
} from '@stateful-mlflow/plugin-mlflow-common';
import { AwsLocation } from '../rdsInstances';

/** The region and account annotations, validated; an InputError naming the annotation otherwise. */
export function readAwsLocation(
  region: string,
  accountId: string | undefined,
): AwsLocation {
  const validRegion = validateName(
    nameRules.awsRegion,
    ANNOTATION_MLFLOW_AWS_REGION,
    region,
  );
  if (accountId === undefined) {
    return { region: validRegion };
  }
  if (!/^\d{12}$/.test(accountId)) {
    throw new InputError(
      `Invalid ${ANNOTATION_MLFLOW_AWS_ACCOUNT_ID}: received ${describeReceived(
        accountId,
      )}, but it must be 12 digits. Accepted: an AWS account id such as 123456789012.`,
    );
  }
  return { region: validRegion, accountId };
}
