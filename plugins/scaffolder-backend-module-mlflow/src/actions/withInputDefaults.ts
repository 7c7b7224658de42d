import { TemplateAction } from '@backstage/plugin-scaffolder-node';
import { JsonObject, JsonValue } from '@backstage/types';

/**
 * The scaffolder only checks an action's input against its JSON schema; it does not fill in the
 * schema's defaults, so a template (or API caller) that leaves out a defaulted input would hand the
 * handler `undefined`. This wrapper fills every top-level default before the handler runs.
 */
export function withInputDefaults<
  TInput extends JsonObject,
  TOutput extends JsonObject,
>(
  action: TemplateAction<TInput, TOutput, 'v2'>,
): TemplateAction<TInput, TOutput, 'v2'> {
  const properties = ((
    action.schema?.input as
      | { properties?: Record<string, { default?: JsonValue }> }
      | undefined
  )?.properties ?? {}) as Record<string, { default?: JsonValue }>;
  const defaults = Object.entries(properties).filter(
    ([, property]) => property.default !== undefined,
  );
  return {
    ...action,
    handler: ctx => {
      const input: JsonObject = { ...ctx.input };
      for (const [key, property] of defaults) {
        if (input[key] === undefined) {
          input[key] = structuredClone(property.default) as JsonValue;
        }
      }
      return action.handler({ ...ctx, input: input as TInput });
    },
  };
}
