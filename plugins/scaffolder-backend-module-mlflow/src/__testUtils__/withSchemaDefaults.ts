import { TemplateAction } from '@backstage/plugin-scaffolder-node';
import { JsonObject } from '@backstage/types';

/**
 * The input as the scaffolder hands it to the handler: the action's schema defaults filled in
 * for absent fields (the scaffolder validates and defaults before calling the handler).
 */
export function withSchemaDefaults(
  action: Pick<TemplateAction, 'schema'>,
  input: JsonObject,
): JsonObject {
  const properties = (action.schema?.input?.properties ?? {}) as Record<
    string,
    { default?: unknown }
  >;
  const filled: JsonObject = { ...input };
  for (const [key, property] of Object.entries(properties)) {
    if (filled[key] === undefined && property.default !== undefined) {
      filled[key] = property.default as JsonObject[string];
    }
  }
  return filled;
}
