import { messageOf } from './types';

describe('messageOf', () => {
  it('uses the message, and says what the cause was', () => {
    expect(messageOf(new Error('boom'))).toBe('boom');
    expect(
      messageOf(
        new TypeError('fetch failed', {
          cause: new Error('connect ECONNREFUSED 127.0.0.1:16443'),
        }),
      ),
    ).toBe('fetch failed (connect ECONNREFUSED 127.0.0.1:16443)');
  });

  it('falls back to inner errors or the code when the message is empty', () => {
    const refused = Object.assign(
      new AggregateError(
        [
          new Error('connect ECONNREFUSED ::1:80'),
          new Error('connect ECONNREFUSED 127.0.0.1:80'),
        ],
        '',
      ),
      { code: 'ECONNREFUSED' },
    );
    expect(messageOf(refused)).toBe('connect ECONNREFUSED ::1:80');
    expect(messageOf(Object.assign(new Error(''), { code: 'ETIMEDOUT' }))).toBe(
      'ETIMEDOUT',
    );
    expect(messageOf('plain')).toBe('plain');
  });
});
