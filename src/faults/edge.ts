import type { Clock } from "../clock";
import type { InstanceConfig } from "../config/config";
import { Throttle } from "./throttle";

/** What sets one instance apart from a healthy EC2 one at its callers' end: the hop limit, a rate limit. */
export interface InstanceEdge {
  /**
   * Its callers sit behind more routed hops than HttpPutResponseHopLimit: EC2 sends the token PUT's
   * answer with that IP TTL, so it dies on the way and the caller sees nothing (IMDS-SPEC "Hop
   * limit"). GETs are not limited this way.
   */
  readonly tokenUnanswered: boolean;
  readonly throttle?: Throttle;
}

/** Undefined for an instance like EC2's default one, so the port's check a request stays one property read. */
export function instanceEdge(config: Pick<InstanceConfig, "hops" | "httpPutResponseHopLimit" | "requestRateLimit">, clock: Clock): InstanceEdge | undefined {
  const tokenUnanswered = config.hops > config.httpPutResponseHopLimit;
  const throttle = config.requestRateLimit === undefined ? undefined : new Throttle(clock, config.requestRateLimit);
  return !tokenUnanswered && throttle === undefined ? undefined : { tokenUnanswered, throttle };
}
