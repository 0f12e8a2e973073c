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
  /** The replies as compiled from the tree, kept until the next rebuild: eras are added to it as they are asked for. */
  readonly replies: ReplyTable;
  /** The credential leaves' replies in `replies`, by path below a version's root. */
  readonly credentialReplies: ReadonlyMap<string, Reply>;
  /** What the port serves: `replies`, or over it the credentials of the last rotation. */
  readonly table: ReplyTable;
  readonly container: Reply;
}

/** Compiled replies with a rotation's credential replies in place of the compiled ones, in every version. */
class SwappedReplies implements ReplyTable {
  constructor(
    private readonly compiled: ReplyTable,
    private readonly swapped: ReadonlyMap<Reply, Reply>,
  ) {}

  get(key: string): Reply | undefined {
    const reply = this.compiled.get(key);
    return reply === undefined ? undefined : (this.swapped.get(reply) ?? reply);
  }
}

/**
 * The cache stage: the tree and the current credentials, compiled into ready replies and swapped
 * whole whenever either changes, so the metadata port answers with a lookup and never waits.
 * A rotation changes a handful of leaves: it lays their new replies over the compiled table, in
 * place of the compiled reply objects that every version's path to them shares, instead of
 * building, signing and compiling the whole tree again. An era compiled after the rotation shares
 * those objects too, so it answers the current credentials as well.
 */
export class ReplyCache {
  /** Made at the first read, so a start compiles its first credentials in rather than laying them over a table compiled without them. */
  private compiled: Compiled | undefined;
  private override: CredentialOverride | undefined;

  constructor(
    private readonly refresher: Refresher,
    private readonly state: () => TreeState,
  ) {
    refresher.onChange(() => this.swapCredentials());
  }

  replies(): ReplyTable {
    return this.current().table;
  }

  containerReply(): Reply {
    return this.current().container;
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

  private current(): Compiled {
    this.compiled ??= this.compileAll();
    return this.compiled;
  }

  private compileAll(): Compiled {
    const inputs = this.inputs();
    const leaves = credentialLeaves(inputs);
    const replies =
      inputs.captured === undefined
        ? compileReplies(buildTree(inputs))
        : compileCaptured(inputs.captured, { credentials: leaves, sign: inputs.sign });
    return {
      replies,
      credentialReplies: new Map([...leaves.keys()].map((path) => [path, replies.get(`/latest/${path}`)!])),
      table: replies,
      container: containerCredentialsReply(inputs.credentials, inputs.instance.accountId, inputs.credentialsUnavailableReason),
    };
  }

  /**
   * Replaces only the credential leaves (the role's or the identity role's); falls back to a rebuild
   * if they cannot be told apart. Each rotation replaces every one of them, so it lays its replies
   * over the compiled table, not over the last rotation's.
   */
  swapCredentials(): void {
    const compiled = this.compiled;
    // Nothing read yet: the first read compiles the credentials as they are then.
    if (compiled === undefined) return;
    const inputs = this.inputs();
    const swapped = new Map<Reply, Reply>();
    for (const [path, leaf] of credentialLeaves(inputs)) {
      const reply = compiled.credentialReplies.get(path);
      if (reply === undefined || swapped.has(reply)) {
        this.rebuild();
        return;
      }
      swapped.set(reply, leafReply(leaf));
    }
    this.compiled = {
      ...compiled,
      table: new SwappedReplies(compiled.replies, swapped),
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
