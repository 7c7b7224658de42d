import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A value that must not appear anywhere but its Secret; `label` is what a finding names. */
export type SecretNeedle = { label: string; value: string };

/** A place that was searched: where it is, and its bytes. */
export type Haystack = { where: string; content: string | Buffer };

/** The secret and the place it was found in; never the value. */
export type SecretFinding = { secret: string; where: string };

/** The spellings a leak can take: as is, base64 (a Secret-like copy), URL-encoded. */
function spellings(value: string): string[] {
  return [
    value,
    Buffer.from(value, 'utf8').toString('base64'),
    encodeURIComponent(value),
  ];
}

/** Every (secret, place) pair where one of the secret's spellings occurs. */
export function findSecrets(
  needles: SecretNeedle[],
  haystacks: Haystack[],
): SecretFinding[] {
  for (const { label, value } of needles) {
    // A short value would match by chance; the generated ones are 256 random bits.
    if (value.length < 16) {
      throw new Error(
        `The ${label} to search for is ${value.length} characters long: too short to search for`,
      );
    }
  }
  const findings: SecretFinding[] = [];
  for (const { where, content } of haystacks) {
    const bytes =
      typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    for (const { label, value } of needles) {
      if (spellings(value).some(s => bytes.includes(s))) {
        findings.push({ secret: label, where });
      }
    }
  }
  return findings;
}

/** Every regular file under `dir`, recursively, with its bytes. */
export function readFilesUnder(dir: string): Haystack[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(entry => entry.isFile())
    .map(entry => {
      const path = join(entry.parentPath, entry.name);
      return { where: path, content: readFileSync(path) };
    });
}

/** The command line of every process this user can see (`/proc/<pid>/cmdline`). */
export function readProcessCommandLines(): Haystack[] {
  const haystacks: Haystack[] = [];
  for (const pid of readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`);
      haystacks.push({
        // The program only: a leaking argument must not reach the report.
        where: `argv of process ${pid} (${argv
          .toString('utf8')
          .split('\0')[0]
          .slice(0, 80)})`,
        content: argv,
      });
    } catch {
      // the process ended between the listing and the read
    }
  }
  return haystacks;
}
