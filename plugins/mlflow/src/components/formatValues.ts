/** How a missing value reads in the detail tables. */
export const UNKNOWN = 'Unknown';

/** Yes/No for a flag the backend may not know. */
export function yesNo(value: boolean | undefined): string {
  if (value === undefined) {
    return UNKNOWN;
  }
  return value ? 'Yes' : 'No';
}
