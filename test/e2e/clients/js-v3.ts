// An application using the AWS SDK for JavaScript v3 as shipped: default credential chain, and the
// default region chain unless a region is given. Usage: js-v3.js <sts-endpoint> [region]
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

async function main(): Promise<void> {
  const [endpoint, region] = process.argv.slice(2);
  const client = new STSClient(region === undefined ? { endpoint } : { endpoint, region });
  const identity = await client.send(new GetCallerIdentityCommand({}));
  console.log(JSON.stringify({ arn: identity.Arn, region: await client.config.region() }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
