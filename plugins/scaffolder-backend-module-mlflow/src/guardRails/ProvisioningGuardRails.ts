import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { describeReceived } from '@stateful-mlflow/plugin-mlflow-common';

/** The config keys of the guard rails, under `mlflow.provisioning`. */
const KEY = 'mlflow.provisioning';

/** The namespaces the actions create or use when the operator lists none: the default names. */
export const DEFAULT_ALLOWED_NAMESPACES = ['mlflow-*'];

/**
 * The operator's limits on what a template may ask for, `mlflow.provisioning.*`.
 *
 * @public
 */
export type ProvisioningGuardRailsOptions = {
  /** Image patterns: `*` matches within one path segment, `**` matches anything. */
  allowedImages?: string[];
  /** Domains the Ingress host must equal or be a subdomain of. */
  allowedHostnameDomains?: string[];
  /** Namespace patterns the actions may create or use (`*` matches anything). */
  allowedNamespaces?: string[];
  /** Existing namespaces, without this instance's identity, that may be used as they are. */
  adoptableNamespaces?: string[];
  /** KMS key ARNs the server's role may be granted. */
  allowedKmsKeyArns?: string[];
};

function escapeRegExp(text: string) {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** A glob of `*` (no `/`) and `**` (anything) as an anchored regular expression. */
function globRegExp(pattern: string): RegExp {
  const body = pattern
    .split('**')
    .map(part => part.split('*').map(escapeRegExp).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

function listed(values: string[] | undefined): string {
  return values && values.length > 0
    ? values.join(', ')
    : 'nothing (the operator has not configured any)';
}

/**
 * The operator's guard rails for the provisioning actions. Images, hostnames and KMS keys are
 * refused unless configured (fail closed); namespaces default to the default names (`mlflow-*`),
 * and an existing namespace without this instance's identity is used only when listed as
 * adoptable.
 *
 * @public
 */
export class ProvisioningGuardRails {
  static fromConfig(config: Config): ProvisioningGuardRails {
    const rails = config.getOptionalConfig(KEY);
    return new ProvisioningGuardRails({
      allowedImages: rails?.getOptionalStringArray('allowedImages'),
      allowedHostnameDomains: rails?.getOptionalStringArray(
        'allowedHostnameDomains',
      ),
      allowedNamespaces: rails?.getOptionalStringArray('allowedNamespaces'),
      adoptableNamespaces: rails?.getOptionalStringArray('adoptableNamespaces'),
      allowedKmsKeyArns: rails?.getOptionalStringArray('allowedKmsKeyArns'),
    });
  }

  constructor(private readonly options: ProvisioningGuardRailsOptions) {}

  /** Refuses an image that matches none of `allowedImages`. */
  checkImage(image: string, field = 'image'): void {
    const patterns = this.options.allowedImages ?? [];
    if (!patterns.some(p => globRegExp(p).test(image))) {
      throw new InputError(
        `Invalid ${field}: received ${describeReceived(
          image,
        )}, but the operator allows only images matching ${listed(
          patterns,
        )} (${KEY}.allowedImages).`,
      );
    }
  }

  /** Refuses an Ingress host outside `allowedHostnameDomains`. */
  checkHostname(hostname: string, field = 'hostname'): void {
    const domains = (this.options.allowedHostnameDomains ?? []).map(d =>
      d.replace(/^\*\./, '').toLocaleLowerCase('en-US'),
    );
    const host = hostname.toLocaleLowerCase('en-US');
    if (!domains.some(d => host === d || host.endsWith(`.${d}`))) {
      throw new InputError(
        `Invalid ${field}: received ${describeReceived(
          hostname,
        )}, but the operator allows only hosts in the domains ${listed(
          domains,
        )} (${KEY}.allowedHostnameDomains).`,
      );
    }
  }

  /**
   * Refuses a namespace the actions may not create or use. `existing` says whether it exists and
   * whether it carries this instance's identity; a foreign one is used only when adoptable.
   */
  checkNamespace(
    namespace: string,
    existing: 'absent' | 'ours' | 'foreign',
    field = 'namespace',
  ): void {
    const adoptable = this.options.adoptableNamespaces ?? [];
    if (existing === 'foreign') {
      if (!adoptable.includes(namespace)) {
        throw new InputError(
          `Invalid ${field}: received ${describeReceived(
            namespace,
          )}, but that namespace exists and was not created for this instance, and the operator lists only ${listed(
            adoptable,
          )} as adoptable (${KEY}.adoptableNamespaces). It is not taken over: choose another namespace.`,
        );
      }
      return;
    }
    const patterns =
      this.options.allowedNamespaces ?? DEFAULT_ALLOWED_NAMESPACES;
    if (!patterns.some(p => globRegExp(p).test(namespace))) {
      throw new InputError(
        `Invalid ${field}: received ${describeReceived(
          namespace,
        )}, but the operator allows only namespaces matching ${listed(
          patterns,
        )} (${KEY}.allowedNamespaces).`,
      );
    }
  }

  /**
   * Refuses a KMS key the role may not be granted: it must be listed in `allowedKmsKeyArns` and
   * live in the instance's region (the grant is conditioned to S3 there).
   */
  checkKmsKeyArn(keyArn: string, region: string, field = 'kmsKeyArn'): void {
    const allowed = this.options.allowedKmsKeyArns ?? [];
    if (!allowed.includes(keyArn)) {
      throw new InputError(
        `Invalid ${field}: received ${describeReceived(
          keyArn,
        )}, but the operator allows the server's role only the KMS keys ${listed(
          allowed,
        )} (${KEY}.allowedKmsKeyArns).`,
      );
    }
    const keyRegion = keyArn.split(':')[3];
    if (keyRegion !== region) {
      throw new InputError(
        `Invalid ${field}: received ${describeReceived(
          keyArn,
        )}, a key in ${keyRegion}, but the instance's bucket is in ${region}; S3 uses keys of its own region only.`,
      );
    }
  }
}
