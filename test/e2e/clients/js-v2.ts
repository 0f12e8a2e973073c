// An application using the AWS SDK for JavaScript v2 (aws-sdk) as shipped: its default credential
// chain. v2 never looks up the region itself, so it is given. Usage: js-v2.js <sts-endpoint> <region>
import AWS from "aws-sdk";

async function main(): Promise<void> {
  const [endpoint, region] = process.argv.slice(2);
  const identity = await new AWS.STS({ endpoint, region }).getCallerIdentity().promise();
  console.log(JSON.stringify({ arn: identity.Arn, region }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
