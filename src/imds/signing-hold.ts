import type { IncomingMessage, ServerResponse } from "node:http";
import { resolvePath } from "../cache/replies";
import type { LazySigner } from "../instance/lazy-signer";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const SIGNATURE_KEY = /\/dynamic\/instance-identity\/(signature|pkcs7|rsa2048)\/?$/;

/**
 * The identity signing key is made on first use (instance/lazy-signer.ts). A request for a
 * signature that finds no key yet starts it and waits, off the event loop, until the replies hold
 * the signatures; every other request goes straight on. Once the key exists this is one check.
 */
export function holdUntilSigned(handler: Handler, signer: LazySigner): Handler {
  return (req, res) => {
    if (signer.current() !== undefined) return handler(req, res);
    const target = req.url ?? "/";
    // A substring test first: most requests are not for the identity and skip the path resolution.
    if (target.includes("instance-identity")) {
      const resolved = resolvePath(target);
      if (resolved.kind === "metadata" && SIGNATURE_KEY.test(resolved.key)) {
        // A failed key generation leaves the 503 of the pending leaves to be served.
        const answer = () => handler(req, res);
        void signer.ready().then(answer, answer);
        return;
      }
    }
    handler(req, res);
  };
}
