// An application using the AWS SDK for JavaScript v3 as shipped: the default credential chain, with no
// AWS call (mock credentials cannot make one). Prints the key it found and when it expires.
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";

fromNodeProviderChain()()
  .then((credentials) => console.log(JSON.stringify({ accessKeyId: credentials.accessKeyId, expiration: credentials.expiration })))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
