// `npm run golden`: renders every overlay under deploy/kubernetes/overlays with `kubectl kustomize` and
// writes test/kubernetes/golden/<overlay>.yaml, which test/kubernetes/render.test.ts compares against.
// Run it after an intended change to the manifests, and review the diff of the golden files.
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import { goldenFile, kubectlAvailable, OVERLAYS, overlayDir, ROOT, renderText } from "./kubernetes";

if (!kubectlAvailable()) {
  process.stderr.write("kubectl is not installed: the golden files are kubectl kustomize's output\n");
  process.exit(1);
}
for (const overlay of OVERLAYS) {
  writeFileSync(goldenFile(overlay), renderText(overlayDir(overlay)));
  process.stdout.write(`wrote ${relative(ROOT, goldenFile(overlay))}\n`);
}
