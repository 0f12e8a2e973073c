import { writeFileSync } from "node:fs";
import { parseRoleArn } from "../config/arn";
import { ConfigError } from "../validation";
import { describe } from "./describe";
import { DEFAULT_LIMITS, NoToken, walk } from "./walk";

export interface CaptureArgs {
  readonly output?: string;
  readonly redact: readonly string[];
  readonly roleArn?: string;
  readonly maxRequests: number;
}

const USAGE = "imds-emulator capture [--output FILE] [--redact PATH]... [--role-arn ARN] [--max-requests N]";

const HELP = [
  "Walks an instance metadata service with IMDSv2 and writes an instance description that imds-emulator --config replays.",
  "Never reads credentials, tokens or signatures. Endpoint: AWS_EC2_METADATA_SERVICE_ENDPOINT, else _MODE (IPv4|IPv6).",
  "",
  "  --output FILE       write to FILE (mode 0600) instead of standard output",
  "  --redact PATH       write REDACTED for a leaf or every leaf under a directory (user-data, tags/instance/Owner); repeatable",
  "  --role-arn ARN      record the role the replay assumes with STS",
  `  --max-requests N    at most N requests (default ${DEFAULT_LIMITS.maxRequests})`,
  "",
  "Exit codes: 0 walked (missing paths listed on standard error), 1 no token, 2 bad arguments. See docs/replay.md.",
].join("\n");

/** `capture`'s own few flags, as `--flag value` or `--flag=value`; anything else is one clear line. */
export function parseCaptureArgs(argv: readonly string[]): CaptureArgs {
  const redact: string[] = [];
  let output: string | undefined;
  let roleArn: string | undefined;
  let maxRequests = DEFAULT_LIMITS.maxRequests;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const next = inline ?? argv[++index];
      if (next === undefined || next === "") throw new ConfigError(`capture: ${flag} needs a value; usage: ${USAGE}`);
      return next;
    };
    if (flag === "--output") output = value();
    else if (flag === "--redact") redact.push(value());
    else if (flag === "--role-arn") {
      roleArn = value();
      if (parseRoleArn(roleArn) === undefined) throw new ConfigError(`capture: --role-arn: expected an IAM role ARN, got ${JSON.stringify(roleArn)}`);
    } else if (flag === "--max-requests") {
      const text = value();
      maxRequests = Number(text);
      if (!/^\d+$/.test(text) || maxRequests < 2 || maxRequests > 10_000) throw new ConfigError(`capture: --max-requests: expected an integer from 2 to 10000, got ${JSON.stringify(text)}`);
    } else throw new ConfigError(`capture: unknown argument ${JSON.stringify(arg)}; usage: ${USAGE}`);
  }
  return { output, redact, roleArn, maxRequests };
}

/** The endpoint as the SDKs take it: the endpoint variable, else the mode's address (IPv4 by default). */
export function captureEndpoint(env: NodeJS.ProcessEnv): URL {
  const endpoint = env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
  if (endpoint !== undefined && endpoint !== "") {
    const url = URL.canParse(endpoint) ? new URL(endpoint) : undefined;
    if (url?.protocol !== "http:") throw new ConfigError(`capture: AWS_EC2_METADATA_SERVICE_ENDPOINT: expected an http:// URL, got ${JSON.stringify(endpoint)}`);
    return url;
  }
  const mode = (env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE ?? "IPv4").toLowerCase();
  if (mode === "ipv4") return new URL("http://169.254.169.254");
  if (mode === "ipv6") return new URL("http://[fd00:ec2::254]");
  throw new ConfigError(`capture: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: expected IPv4 or IPv6, got ${JSON.stringify(env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE)}`);
}

function writeOutput(path: string, yaml: string): void {
  try {
    // Owner-only: a capture holds the instance's user data and tags.
    writeFileSync(path, yaml, { mode: 0o600 });
  } catch (error) {
    throw new ConfigError(`--output: ${(error as Error).message}`);
  }
}

/** Runs `capture`; resolves to the exit code: 0 a walk done (missing paths listed), 1 no token, 2 bad arguments. */
export async function runCapture(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv.includes("--help")) {
    process.stdout.write(`${USAGE}\n\n${HELP}\n`);
    return 0;
  }
  let args: CaptureArgs;
  let base: URL;
  try {
    args = parseCaptureArgs(argv);
    base = captureEndpoint(env);
  } catch (error) {
    process.stderr.write(`imds-emulator: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const walked = await walk(base, { ...DEFAULT_LIMITS, maxRequests: args.maxRequests });
    const { yaml, unmatched } = describe(walked, { redact: args.redact, roleArn: args.roleArn });
    if (args.output === undefined) process.stdout.write(yaml);
    else writeOutput(args.output, yaml);
    for (const want of unmatched) process.stderr.write(`imds-emulator capture: --redact ${want} matched no captured path\n`);
    for (const entry of walked.missing) process.stderr.write(`imds-emulator capture: not captured: ${entry.path}: ${entry.reason}\n`);
    process.stderr.write(`imds-emulator capture: ${walked.bodies.size} paths captured, ${walked.missing.length} missing\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof NoToken || error instanceof ConfigError)) throw error;
    process.stderr.write(`imds-emulator capture: ${error.message}\n`);
    return error instanceof NoToken ? 1 : 2;
  }
}
