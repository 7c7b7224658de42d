import { TemplateAction } from '@backstage/plugin-scaffolder-node';
import { JsonObject, JsonValue } from '@backstage/types';

type SchemaProperties = Record<string, { default?: JsonValue }>;

/**
 * The input with every absent top-level field set to a copy of its schema default. The scaffolder
 * only checks an action's input against its JSON schema; it does not fill in the defaults.
 */
export function fillInputDefaults(
  action: Pick<TemplateAction, 'schema'>,
  input: JsonObject,
): JsonObject {
  const properties = ((
    action.schema?.input as { properties?: SchemaProperties } | undefined
  )?.properties ?? {}) as SchemaProperties;
  const filled: JsonObject = { ...input };
  for (const [key, property] of Object.entries(properties)) {
    if (filled[key] === undefined && property.default !== undefined) {
      filled[key] = structuredClone(property.default);
    }
  }
  return filled;
}

/**
 * Wraps an action so a template (or API caller) that leaves out a defaulted input hands the
 * handler the default instead of `undefined`.
 */
export function withInputDefaults<
  TInput extends JsonObject,
  TOutput extends JsonObject,
>(
  action: TemplateAction<TInput, TOutput, 'v2'>,
): TemplateAction<TInput, TOutput, 'v2'> {
  return {
    ...action,
    handler: ctx =>
      action.handler({
        ...ctx,
        input: fillInputDefaults(action, ctx.input) as TInput,
      }),
  };
}
