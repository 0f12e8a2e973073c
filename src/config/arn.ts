/** ARN and name rules, kept apart from sts.ts so the main thread never loads the AWS SDK. */

/** A RoleSessionName STS accepts: 2..64 characters of [\w+=,.@-]. */
export function defaultRoleSessionName(hostname: string): string {
  return `imds-emulator-${hostname.replace(/[^\w+=,.@-]/g, "-")}`.slice(0, 64);
}

export function accountIdFromArn(arn: string): string | undefined {
  const parts = arn.split(":");
  return parts[0] === "arn" && /^\d{12}$/.test(parts[4] ?? "") ? parts[4] : undefined;
}

// IAM paths are printable ASCII between slashes; role names are 1..64 of [\w+=,.@-].
const ROLE_ARN = /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):role\/(?:[\x21-\x2e\x30-\x7e]+\/)*([\w+=,.@-]{1,64})$/;

export function parseRoleArn(arn: string): { accountId: string; roleName: string; partition: string } | undefined {
  const match = ROLE_ARN.exec(arn);
  return match ? { partition: match[1], accountId: match[2], roleName: match[3] } : undefined;
}
