import type { Clock } from "../clock";
import { createMockSource } from "../credentials/mock";
import { Refresher } from "../credentials/refresher";
import type { Logger } from "../log";

export interface IdentityCredentialsOptions {
  readonly accountId: string;
  readonly durationSeconds: number;
  readonly rotateBeforeSeconds?: number;
  readonly clock: Clock;
  readonly log: Logger;
}

/** Its log lines say whose credentials they are: `identity-credentials-rotated`, not the role's event. */
function prefixed(log: Logger, prefix: string): Logger {
  return {
    debug: (event, fields) => log.debug(prefix + event, fields),
    info: (event, fields) => log.info(prefix + event, fields),
    warn: (event, fields) => log.warn(prefix + event, fields),
    error: (event, fields) => log.error(prefix + event, fields),
    debugEnabled: log.debugEnabled,
  };
}

/**
 * The instance identity role's credentials (`identity-credentials/ec2/security-credentials/ec2-instance`).
 * On EC2 they identify the instance and grant nothing, so they are minted in AWS's formats and never
 * cost an STS call, and rotated by the same rule as the role's credentials.
 */
export function createIdentityCredentials(options: IdentityCredentialsOptions): Refresher {
  const { accountId, durationSeconds, rotateBeforeSeconds, clock, log } = options;
  return new Refresher({
    source: createMockSource({ durationSeconds, accountId, clock }),
    clock,
    log: prefixed(log, "identity-"),
    rotateBeforeSeconds,
  });
}
