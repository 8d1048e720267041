/**
 * The one place tessel writes to the console. Developers' traces go through `log(area)`
 * (@libp2p/logger: off unless `DEBUG=tessel:*` in Node or `localStorage.debug = 'tessel:*'` in
 * a tab); what a volunteer or researcher should see (a caught cheat, a lost model, a peer's bad
 * frame) goes through `notice`; the CLIs' output through `print` and `printError`.
 */
import { type Logger, logger } from '@libp2p/logger';

export type { Logger };

/** A debug logger for one area, named `tessel:<area>` (e.g. `log('mesh:owner')`). */
export function log(area: string): Logger {
  return logger(`tessel:${area}`);
}

/** Something the person at this tab or process should know: a warning line, `tessel: …`. */
export function notice(message: string): void {
  console.warn(`tessel: ${message}`);
}

/** A command-line tool's output line (stdout). */
export function print(line: string): void {
  console.log(line);
}

/** A command-line tool's error line (stderr). */
export function printError(line: string): void {
  console.error(line);
}
