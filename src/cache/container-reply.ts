import { awsTimestamp } from "../clock";
import type { ServedCredentials } from "../credentials/refresher";
import { json, type Reply } from "./replies";

/** The ECS-style container credentials document (AWS_CONTAINER_CREDENTIALS_FULL_URI clients). */
export function containerCredentialsReply(served: ServedCredentials | undefined, accountId: string, reason: string): Reply {
  if (served === undefined) return json(503, { code: "CredentialsUnavailable", message: reason });
  const { credentials } = served;
  return json(200, {
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    Token: credentials.sessionToken,
    Expiration: awsTimestamp(credentials.expiration),
    AccountId: credentials.accountId ?? accountId,
  });
}
