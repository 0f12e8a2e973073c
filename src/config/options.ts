import { MAINTENANCE_CODES, SPOT_ACTIONS } from "../instance/events";
import { LOG_LEVELS } from "../log";

/**
 * Every option of the daemon, once: the CLI, `IMDS_EMULATOR_<NAME>` variables, config file keys,
 * `--help` and the README table all come from this list.
 */
export interface OptionSpec {
  readonly name: string;
  readonly description: string;
  readonly default?: string | number;
  readonly repeatable?: boolean;
  readonly choices?: readonly string[];
}

const DEFINITIONS = [
  { name: "config", description: "Config file (JSON or YAML): any option below, plus `metadata`, `tags`" },
  { name: "host", description: "Address to listen on; repeat for more (IPv6 literals such as fd00:ec2::254 work)", default: "127.0.0.1", repeatable: true },
  { name: "port", description: "Port of the metadata service", default: 1338 },
  { name: "role-name", description: "Role name in iam/security-credentials/ (default: the role ARN's last segment, else imds-emulator)" },
  { name: "role-arn", description: "IAM role to assume with STS; without it the built-in mock source mints credentials" },
  { name: "role-session-name", description: "STS role session name (default: derived from the host name)" },
  { name: "external-id", description: "External id for AssumeRole" },
  { name: "web-identity-token-file", description: "Use AssumeRoleWithWebIdentity with the token in this file, re-read at every refresh" },
  { name: "sts-region", description: "Region of the STS endpoint (default: --region)" },
  { name: "sts-endpoint", description: "Full STS endpoint URL (LocalStack, moto)" },
  { name: "duration-seconds", description: "Lifetime of each credential set, 900..43200", default: 3600 },
  { name: "rotate-before", description: "Rotate this many seconds before expiry (default 1800; half the lifetime for sessions under 45 minutes)" },
  { name: "region", description: "Region of the emulated instance", default: "us-east-1" },
  { name: "availability-zone", description: "Availability zone (default: the region + a)" },
  { name: "account-id", description: "Account id (default: from the role ARN, else generated)" },
  { name: "instance-id", description: "Instance id (default: generated from the host name)" },
  { name: "instance-type", description: "Instance type", default: "t3.micro" },
  { name: "ami-id", description: "AMI id (default: generated)" },
  { name: "local-ipv4", description: "Private IPv4 address; hostnames follow (default: generated in 172.31.0.0/16)" },
  { name: "public-ipv4", description: "Public IPv4 address (default: generated in 203.0.113.0/24)" },
  { name: "mac", description: "MAC address of the primary interface (default: generated)" },
  { name: "instance-life-cycle", description: "Instance life cycle", default: "on-demand", choices: ["on-demand", "spot"] },
  { name: "http-tokens", description: "IMDSv2 only (required) or IMDSv1 allowed too (optional)", default: "optional", choices: ["optional", "required"] },
  { name: "http-endpoint", description: "Answer requests (enabled) or refuse them all with 403 (disabled)", default: "enabled", choices: ["enabled", "disabled"] },
  { name: "instance-metadata-tags", description: "Serve tags/instance/ (enabled) or not (disabled)", default: "disabled", choices: ["enabled", "disabled"] },
  { name: "user-data-file", description: "File served as user-data (at most 16 KiB)" },
  { name: "spot-interruption-after", description: "Issue a spot interruption notice after this long (30s, 2m, 1h)" },
  { name: "spot-action", description: "Action of the spot interruption", default: "terminate", choices: SPOT_ACTIONS },
  { name: "rebalance-after", description: "Issue a rebalance recommendation after this long" },
  { name: "maintenance-after", description: "Schedule a maintenance event after this long (it starts a day later)" },
  { name: "maintenance-code", description: "Code of the maintenance event", default: "system-reboot", choices: MAINTENANCE_CODES },
  { name: "target-lifecycle-state", description: "Auto Scaling target lifecycle state, now (InService) or later (Terminated@60s); repeatable", repeatable: true },
  { name: "allow-host", description: "Also answer requests whose Host is this name (DNS names are refused otherwise); repeatable", repeatable: true },
  { name: "allow-cidr", description: "Answer only callers in these networks; repeatable (default: loopback and the networks of the listen addresses)", repeatable: true },
  { name: "max-connections", description: "Most connections open at once on each metadata listener; one caller may hold a quarter (default: what the open-file limit leaves, at most 1024)" },
  { name: "container-credentials-path", description: "Also serve ECS-style container credentials at this path of the metadata port (for AWS_CONTAINER_CREDENTIALS_FULL_URI)" },
  { name: "container-auth-token", description: "The Authorization value container-credential clients must send (prefer the environment variable)" },
  { name: "container-auth-token-file", description: "File holding that Authorization value (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)" },
  { name: "admin-port", description: "Port of the loopback admin listener (health, metrics); off when unset" },
  { name: "admin-host", description: "Address of the admin listener; off loopback it needs --admin-token", default: "127.0.0.1" },
  { name: "admin-token", description: "Bearer token the admin listener requires (prefer the environment variable: arguments show in ps)" },
  { name: "log-level", description: "Least level logged", default: "info", choices: LOG_LEVELS },
] as const satisfies readonly OptionSpec[];

export const OPTIONS: readonly OptionSpec[] = DEFINITIONS;

/** The options' names, as typed keys for the library API. */
export type OptionName = (typeof DEFINITIONS)[number]["name"];

export const ENV_PREFIX = "IMDS_EMULATOR_";

export function envName(option: string): string {
  return ENV_PREFIX + option.toUpperCase().replace(/-/g, "_");
}
