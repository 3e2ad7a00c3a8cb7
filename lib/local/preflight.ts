/**
 * What the local runtime needs from the machine, checked before anything
 * starts: the Node.js range the project supports (package.json `engines`) and
 * Java 17 or newer for DynamoDB Local. A missing prerequisite stops `npm start`
 * and `npm test` at once with one line naming what to install, not a stack
 * trace from deep inside an emulator.
 */
import { spawnSync } from 'node:child_process';

/** The oldest Node.js the project supports; package.json `engines.node` says the same (a test keeps them equal). */
export const MIN_NODE = { major: 20, minor: 11 } as const;
/** DynamoDB Local 3.x runs on Java 17 or newer. */
export const MIN_JAVA_MAJOR = 17;

const JAVA_INSTALL_HINT = 'install a Java 17+ runtime (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless) and make sure `java` is on PATH';

/** A prerequisite of the local runtime is missing; the message says what to install. */
export class PrerequisiteError extends Error {
  override readonly name = 'PrerequisiteError';
}

/** `major.minor` of a Node.js version string such as `v20.20.2`. */
export function parseNodeVersion(version: string): { major: number; minor: number } {
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  if (match === null) throw new PrerequisiteError(`cannot read the Node.js version "${version}"`);
  return { major: Number(match[1]), minor: Number(match[2]) };
}

/** Throws unless `version` (default: this process's Node.js) is at least {@link MIN_NODE}. */
export function checkNode(version: string = process.version): void {
  const { major, minor } = parseNodeVersion(version);
  if (major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor)) return;
  throw new PrerequisiteError(`Ferry needs Node.js ${MIN_NODE.major}.${MIN_NODE.minor} or newer; this is ${version}: install a newer Node.js`);
}

/**
 * The major version in `java -version` output: `openjdk version "17.0.15"`
 * gives 17, the old scheme `java version "1.8.0_392"` gives 8; undefined when
 * the output names no version.
 */
export function parseJavaMajor(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (match === null) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/** Throws unless `java` (as the emulator host will start it) runs and is Java {@link MIN_JAVA_MAJOR} or newer. */
export function checkJava(command = 'java'): void {
  const result = spawnSync(command, ['-version'], { encoding: 'utf8', timeout: 15_000 });
  if (result.error !== undefined) {
    const reason = (result.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no `java` on PATH' : `\`java -version\` failed (${result.error.message})`;
    throw new PrerequisiteError(`DynamoDB Local needs Java ${MIN_JAVA_MAJOR} or newer, and there is ${reason}: ${JAVA_INSTALL_HINT}`);
  }
  const major = parseJavaMajor(`${result.stderr}${result.stdout}`);
  if (major === undefined) {
    throw new PrerequisiteError(`DynamoDB Local needs Java ${MIN_JAVA_MAJOR} or newer, and \`java -version\` printed no version: ${JAVA_INSTALL_HINT}`);
  }
  if (major < MIN_JAVA_MAJOR) {
    throw new PrerequisiteError(`DynamoDB Local needs Java ${MIN_JAVA_MAJOR} or newer; \`java\` on PATH is Java ${major}: ${JAVA_INSTALL_HINT}`);
  }
}

/** Every prerequisite of the local runtime, checked in order. */
export function checkPrerequisites(): void {
  checkNode();
  checkJava();
}
