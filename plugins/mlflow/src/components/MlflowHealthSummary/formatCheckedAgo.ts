/** "checked 12 s ago", "checked 3 min ago", "checked 2 h ago"; a clock skew never shows as negative. */
export function formatCheckedAgo(checkedAt: string, now: Date): string {
  const seconds = Math.max(
    0,
    Math.floor((now.getTime() - new Date(checkedAt).getTime()) / 1000),
  );
  if (seconds < 60) {
    return `checked ${seconds} s ago`;
  }
  if (seconds < 3600) {
    return `checked ${Math.floor(seconds / 60)} min ago`;
  }
  return `checked ${Math.floor(seconds / 3600)} h ago`;
}
