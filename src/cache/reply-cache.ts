import type { Refresher } from "../credentials/refresher";
import { buildTree, credentialLeaves, type TreeInputs } from "../instance/tree";
import type { CapturedTree } from "../config/captured";
import { compileCaptured } from "./captured-replies";
import { containerCredentialsReply } from "./container-reply";
import { applyOverride, type CredentialOverride } from "./credential-override";
import { compileReplies, leafReply, type Reply, type ReplyTable } from "./replies";

/** What the cache compiles, read again at each rebuild: the tree inputs other than the role's credentials. */
export type TreeState = Omit<TreeInputs, "credentials" | "credentialsUnavailableReason"> & {
  /** A captured instance's tree, served in place of the built one. */
  readonly captured?: CapturedTree;
};

interface Compiled {
  readonly table: ReplyTable;
  /** The credential leaves' replies in `table`, by path below a version's root. */
  readonly credentialReplies: ReadonlyMap<string, Reply>;
  readonly container: Reply;
}

/**
 * The cache stage: the tree and the current credentials, compiled into ready replies and swapped
 * whole whenever either changes, so the metadata port answers with one map lookup and never waits.
 * A rotation changes a handful of leaves: it swaps those replies in a copy of the table (every
 * version's path to them) instead of building, signing and compiling the whole tree again.
 */
export class ReplyCache {
  private compiled: Compiled;
  private override: CredentialOverride | undefined;

  constructor(
    private readonly refresher: Refresher,
    private readonly state: () => TreeState,
  ) {
    this.compiled = this.compileAll();
    refresher.onChange(() => this.swapCredentials());
  }

  replies(): ReplyTable {
    return this.compiled.table;
  }

  containerReply(): Reply {
    return this.compiled.container;
  }

  /** Serves the role's credentials as `override` says, or as they are again (undefined). */
  setOverride(override: CredentialOverride | undefined): void {
    this.override = override;
    this.swapCredentials();
  }

  overridden(): CredentialOverride | undefined {
    return this.override;
  }

  /** Builds and compiles the whole tree: for changes to the instance, its events, tags or metadata. */
  rebuild(): void {
    this.compiled = this.compileAll();
  }

  private compileAll(): Compiled {
    const inputs = this.inputs();
    const table =
      inputs.captured === undefined
        ? compileReplies(buildTree(inputs))
        : compileCaptured(inputs.captured, { credentials: credentialLeaves(inputs), sign: inputs.sign });
    return {
      table,
      credentialReplies: new Map([...credentialLeaves(inputs).keys()].map((path) => [path, table.get(`/latest/${path}`)!])),
      container: containerCredentialsReply(inputs.credentials, inputs.instance.accountId, inputs.credentialsUnavailableReason),
    };
  }

  /** Replaces only the credential leaves (the role's or the identity role's); falls back to a rebuild if they cannot be told apart. */
  swapCredentials(): void {
    const inputs = this.inputs();
    const replaced = new Map<Reply, Reply>();
    const next = new Map<string, Reply>();
    for (const [path, leaf] of credentialLeaves(inputs)) {
      const old = this.compiled.credentialReplies.get(path);
      if (old === undefined || replaced.has(old)) {
        this.rebuild();
        return;
      }
      const reply = leafReply(leaf);
      replaced.set(old, reply);
      next.set(path, reply);
    }
    const table = new Map<string, Reply>();
    for (const [key, reply] of this.compiled.table) table.set(key, replaced.get(reply) ?? reply);
    this.compiled = {
      table,
      credentialReplies: next,
      container: containerCredentialsReply(inputs.credentials, inputs.instance.accountId, inputs.credentialsUnavailableReason),
    };
  }

  private inputs(): TreeInputs & { readonly captured?: CapturedTree } {
    return {
      ...this.state(),
      credentials: applyOverride(this.refresher.current(), this.override),
      credentialsCode: this.override?.code,
      credentialsUnavailableReason: this.refresher.health().reason ?? "the credential source has not answered yet",
    };
  }
}
