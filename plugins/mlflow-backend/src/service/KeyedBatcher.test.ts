import { KeyedBatcher } from './KeyedBatcher';

describe('KeyedBatcher', () => {
  it('loads the keys of one turn once per group, split by maxKeys, and answers each caller', async () => {
    const loads: Array<[string, string[]]> = [];
    const batcher = new KeyedBatcher<string, string, string>({
      groupId: g => g,
      keyId: k => k,
      maxKeys: 2,
      async load(group, keys) {
        loads.push([group, keys]);
        return key => {
          if (key === 'bad') {
            throw new Error('no bad key');
          }
          return `${group}/${key}`;
        };
      },
    });
    const answers = await Promise.allSettled([
      batcher.get('eu', 'a'),
      batcher.get('eu', 'b'),
      batcher.get('eu', 'a'),
      batcher.get('eu', 'bad'),
      batcher.get('us', 'a'),
    ]);
    expect(answers).toEqual([
      { status: 'fulfilled', value: 'eu/a' },
      { status: 'fulfilled', value: 'eu/b' },
      { status: 'fulfilled', value: 'eu/a' },
      { status: 'rejected', reason: new Error('no bad key') },
      { status: 'fulfilled', value: 'us/a' },
    ]);
    expect(loads).toEqual([
      ['eu', ['a', 'b']],
      ['eu', ['bad']],
      ['us', ['a']],
    ]);
  });

  it('fails every caller of a chunk whose load fails, and starts a new batch afterwards', async () => {
    let fail = true;
    const batcher = new KeyedBatcher<string, string, string>({
      groupId: g => g,
      keyId: k => k,
      load: async (_, keys) => {
        if (fail) {
          throw new Error(`cannot load ${keys.join(',')}`);
        }
        return key => key;
      },
    });
    await expect(
      Promise.all([batcher.get('g', 'x'), batcher.get('g', 'y')]),
    ).rejects.toThrow('cannot load x,y');
    fail = false;
    await expect(batcher.get('g', 'x')).resolves.toBe('x');
  });
});
