import { CONFIGURATION_FAILURES } from "./credentials/refresher";
import { SourceError } from "./credentials/source";
import { ConfigError } from "./validation";

export interface StartFailure {
  /** 2: the configuration (or the machine) must change before a start can succeed; 1: anything else. */
  readonly exitCode: 1 | 2;
  /** One line, no stack. */
  readonly message: string;
}

/** What the command line says, and exits with, when the start fails. */
export function startFailure(error: unknown): StartFailure {
  if (error instanceof ConfigError) return { exitCode: 2, message: error.message };
  if (error instanceof SourceError && CONFIGURATION_FAILURES.has(error.failureClass)) {
    return {
      exitCode: 2,
      message:
        `the first STS call failed (${error.failureClass}): ${error.message}; ` +
        "fix it and start again, or pass --wait-for-credentials to keep the port open and retry",
    };
  }
  return { exitCode: 1, message: error instanceof Error ? error.message : String(error) };
}
