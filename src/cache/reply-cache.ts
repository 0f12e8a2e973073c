import type { Refresher } from "../credentials/refresher";
import { buildTree, type TreeInputs } from "../instance/tree";
import { containerCredentialsReply } from "./container-reply";
import { compileReplies, type Reply, type ReplyTable } from "./replies";

/** What the cache compiles, read again at each rebuild: the instance's tree inputs other than its credentials. */
export type TreeState = Omit<TreeInputs, "credentials" | "credentialsUnavailableReason">;

/**
 * The cache stage: the tree and the current credentials, compiled into ready replies and swapped
 * whole whenever either changes, so the metadata port answers with one map lookup and never waits.
 */
export class ReplyCache {
  private table: ReplyTable;
  private container: Reply;

  constructor(
    private readonly refresher: Refresher,
    private readonly state: () => TreeState,
  ) {
    [this.table, this.container] = this.compile();
    refresher.onChange(() => this.rebuild());
  }

  replies(): ReplyTable {
    return this.table;
  }

  containerReply(): Reply {
    return this.container;
  }

  rebuild(): void {
    [this.table, this.container] = this.compile();
  }

  private compile(): [ReplyTable, Reply] {
    const state = this.state();
    const credentials = this.refresher.current();
    const reason = this.refresher.health().reason ?? "the credential source has not answered yet";
    return [
      compileReplies(buildTree({ ...state, credentials, credentialsUnavailableReason: reason })),
      containerCredentialsReply(credentials, state.instance.accountId, reason),
    ];
  }
}
