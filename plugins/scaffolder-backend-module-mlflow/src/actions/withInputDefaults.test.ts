import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { JsonObject } from '@backstage/types';
import { withInputDefaults } from './withInputDefaults';
import { testWorkspace } from '../__testUtils__/createCheckpointingContext';

describe('withInputDefaults', () => {
  const seen: unknown[] = [];
  const action = createTemplateAction({
    id: 'test:defaults',
    schema: {
      input: {
        name: z => z.string(),
        replicas: z => z.number().default(2),
        namespaces: z => z.array(z.string()).default([]),
        optional: z => z.string().optional(),
      },
    },
    async handler(ctx) {
      seen.push(ctx.input);
    },
  });

  type Context = Parameters<typeof action.handler>[0];
  /** A context as the scaffolder builds it: only the inputs the template rendered. */
  const contextWith = (input: JsonObject) =>
    createMockActionContext({
      input,
      workspacePath: testWorkspace(),
    }) as unknown as Context;

  beforeEach(() => {
    seen.length = 0;
  });

  it('hands the handler the schema defaults of absent inputs', async () => {
    await withInputDefaults(action).handler(contextWith({ name: 'demo' }));
    expect(seen).toEqual([{ name: 'demo', replicas: 2, namespaces: [] }]);
  });

  it('keeps the values that were given', async () => {
    await withInputDefaults(action).handler(
      contextWith({
        name: 'demo',
        replicas: 5,
        namespaces: ['a'],
        optional: 'x',
      }),
    );
    expect(seen).toEqual([
      { name: 'demo', replicas: 5, namespaces: ['a'], optional: 'x' },
    ]);
  });

  it('gives every call its own copy of a default', async () => {
    const wrapped = withInputDefaults(action);
    await wrapped.handler(contextWith({ name: 'a' }));
    await wrapped.handler(contextWith({ name: 'b' }));
    const [first, second] = seen as Array<{ namespaces: string[] }>;
    expect(first.namespaces).not.toBe(second.namespaces);
  });
});
