import {
  makeValidator,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';

const validator = makeValidator();

/** `value` as a full entity ref (`kind:namespace/name`), or undefined when it is not a valid one. */
export function normalizeEntityRef(
  value: string | undefined,
  defaultKind: string,
): string | undefined {
  if (!value) {
    return undefined;
  }
  try {
    const ref = parseEntityRef(value, { defaultKind });
    if (
      !validator.isValidKind(ref.kind) ||
      !validator.isValidNamespace(ref.namespace) ||
      !validator.isValidEntityName(ref.name)
    ) {
      return undefined;
    }
    return stringifyEntityRef(ref);
  } catch {
    return undefined;
  }
}
