import { formatCheckedAgo } from './formatCheckedAgo';

const checkedAt = '2026-11-26T05:00:00.000Z';
const after = (ms: number) => new Date(Date.parse(checkedAt) + ms);

describe('formatCheckedAgo', () => {
  it('counts seconds, then minutes, then hours', () => {
    expect(formatCheckedAgo(checkedAt, after(0))).toBe('checked 0 s ago');
    expect(formatCheckedAgo(checkedAt, after(59_999))).toBe('checked 59 s ago');
    expect(formatCheckedAgo(checkedAt, after(60_000))).toBe(
      'checked 1 min ago',
    );
    expect(formatCheckedAgo(checkedAt, after(3_599_000))).toBe(
      'checked 59 min ago',
    );
    expect(formatCheckedAgo(checkedAt, after(7_300_000))).toBe(
      'checked 2 h ago',
    );
  });

  it('shows a report from a clock that runs ahead as just checked', () => {
    expect(formatCheckedAgo(checkedAt, after(-5_000))).toBe('checked 0 s ago');
  });
});
