import { findBlock } from "./blocked";
import { globsOverlap } from "./clusters";
import { evaluateForGroup, newestInRange, type EffectivePolicy, type MirrorFacts, type PolicyInput } from "./evaluate";
import { fieldPath, type ClusterGroup, type PolicyDocument, type PolicyProblem, type ScopeFreeze } from "./schema";

/** A proposed policy and the state it is checked against. */
export type PolicyChange = {
  readonly draft: PolicyDocument;
  /** The policy now in force (EMPTY_POLICY before the first revision). */
  readonly live: PolicyDocument;
  readonly facts: MirrorFacts;
  readonly configDefaultChannel: string;
  /** ISO 8601 time of the change. */
  readonly now: string;
  /** Accept pins to versions that are not published yet, keeping the channel's answer until they are. */
  readonly allowPending: boolean;
};

export type PreparedChange =
  | { readonly ok: true; readonly policy: PolicyDocument; readonly warnings: PolicyProblem[] }
  | { readonly ok: false; readonly problems: PolicyProblem[]; readonly warnings: PolicyProblem[] };

/**
 * Checks a policy change against the mirror's state and completes it for storage.
 *
 * Rejected (every problem listed, with its field): a default channel, followed channel,
 * hidden channel or group channel that does not exist; a pin, pending answer or frozen
 * value that is blocked or not published (a pin may be unpublished when `allowPending` is
 * set or the channel already names `whilePending`); a freeze that starts in the future or
 * ends before it starts; a cluster id in two groups; patterns of two groups that can match
 * the same id while the groups differ in channel or freeze.
 *
 * Completed: a freeze without `since` starts now; frozen values left out are filled with
 * what the channel answers under the live policy (for a scope the live policy lacks,
 * under the new policy without freezes); an accepted pending pin records the channel's
 * current answer as `whilePending`.
 */
export function preparePolicyChange(change: PolicyChange): PreparedChange {
  const { $schema: _ignored, ...draft } = change.draft;
  const nowMs = Date.parse(change.now);
  const problems: PolicyProblem[] = [];
  const warnings: PolicyProblem[] = [];

  // Step 1: references to channels and versions, against the mirror's state.
  const checker = new StateChecker(draft, change.facts, problems);
  checkChannels(checker, draft, change.allowPending, warnings);
  checkFreezeTimes(draft, nowMs, problems, warnings);
  checkClusterGroups(checker, draft, problems);
  if (draft.defaultChannel !== undefined) checker.requireVisible("defaultChannel", draft.defaultChannel);
  else checker.requireVisible("defaultChannel", change.configDefaultChannel, "the DEFAULT_CHANNEL var names");
  if (problems.length > 0) return { ok: false, problems, warnings };

  // Step 2: fill in start times, frozen values and pending answers.
  const completed = completeChange({ ...change, draft }, nowMs);

  // Step 3: check the frozen values that step 2 filled in.
  const completedChecker = new StateChecker(completed, change.facts, problems);
  checkFrozenValues(completedChecker, completed);
  if (problems.length > 0) return { ok: false, problems, warnings };

  // Step 4: explain answers that the change leaves empty or replaced.
  const effective = evaluateForGroup(inputFor(change, completed), null);
  for (const channel of effective.channels) {
    for (const reason of channel.reasons) {
      if (reason.kind === "blocked") {
        warnings.push({ field: fieldPath(["channels", channel.name]), message: `answers ${reason.replacement ?? "nothing"} because ${reason.version} is blocked (${reason.reason})` });
      }
      if (reason.kind === "pin-pending") {
        warnings.push({ field: fieldPath(["channels", channel.name, "pin"]), message: `${reason.version} is not published yet; the channel answers ${reason.serving ?? "nothing"} until it is` });
      }
    }
  }
  return { ok: true, policy: completed, warnings };
}

/** Builds the evaluation input for a policy over the change's mirror state. */
export function inputFor(change: Pick<PolicyChange, "facts" | "configDefaultChannel" | "now">, policy: PolicyDocument): PolicyInput {
  return { ...change.facts, policy, configDefaultChannel: change.configDefaultChannel, nowMs: Date.parse(change.now) };
}

/** Answers the checks share: which channels exist and which versions a channel may answer. */
class StateChecker {
  readonly baseNames: ReadonlySet<string>;
  readonly visible: ReadonlySet<string>;

  constructor(
    readonly policy: PolicyDocument,
    readonly facts: MirrorFacts,
    readonly problems: PolicyProblem[],
  ) {
    this.baseNames = new Set(facts.baseChannels.map((channel) => channel.name));
    const rules = policy.channels ?? {};
    this.visible = new Set([...this.baseNames, ...Object.keys(rules)].filter((name) => !rules[name]?.hide));
  }

  requireVisible(field: string, name: string, subject = "names"): void {
    if (this.visible.has(name)) return;
    const hidden = this.policy.channels?.[name]?.hide === true;
    this.problems.push({
      field,
      message: hidden
        ? `${subject} channel "${name}", which this policy hides; name a visible channel or remove the hide`
        : `${subject} channel "${name}", which does not exist; name a channel of the channel config or one defined under channels`,
    });
  }

  /** Requires a version that a channel may answer now: published and not blocked. */
  requireServable(field: string, version: string, what: string): void {
    const block = findBlock(this.policy, version);
    if (block) {
      this.problems.push({ field, message: `${what} ${version} is blocked by "${block.rule}" (${block.reason}); choose another version or unblock it` });
      return;
    }
    if (!this.facts.offerable.has(version)) {
      this.problems.push({ field, message: `${what} ${version} is not published on this mirror; choose a published version` });
    }
  }
}

function checkChannels(checker: StateChecker, draft: PolicyDocument, allowPending: boolean, warnings: PolicyProblem[]): void {
  for (const [name, rule] of Object.entries(draft.channels ?? {})) {
    const field = (...rest: string[]) => fieldPath(["channels", name, ...rest]);
    if (rule.follow !== undefined && !checker.baseNames.has(rule.follow)) {
      checker.problems.push({ field: field("follow"), message: `follows channel "${rule.follow}", which the channel config does not have; follow one of: ${[...checker.baseNames].join(", ")}` });
    }
    if (rule.hide && !checker.baseNames.has(name)) {
      checker.problems.push({ field: field("hide"), message: `hides channel "${name}", which the channel config does not have; remove the entry` });
    }
    if (rule.pin !== undefined) checkPin(checker, field, rule.pin, rule.whilePending, allowPending);
    if (rule.range !== undefined && newestInRange({ ...checker.facts, policy: draft }, rule.range) === null) {
      warnings.push({ field: field("range"), message: `no published, unblocked version is in range "${rule.range}"; the channel answers nothing until one is` });
    }
  }
}

function checkPin(checker: StateChecker, field: (...rest: string[]) => string, pin: string, whilePending: string | null | undefined, allowPending: boolean): void {
  const block = findBlock(checker.policy, pin);
  if (block) {
    checker.problems.push({ field: field("pin"), message: `pins ${pin}, which is blocked by "${block.rule}" (${block.reason}); pin another version or unblock it` });
    return;
  }
  if (!checker.facts.offerable.has(pin) && !allowPending && whilePending === undefined) {
    checker.problems.push({
      field: field("pin"),
      message: `pins ${pin}, which is not published on this mirror yet; pin a published version, or pass allowPending=true (the policy CLI's --allow-pending) to keep the channel's current answer until ${pin} is published`,
    });
  }
  if (whilePending !== undefined && whilePending !== null) checker.requireServable(field("whilePending"), whilePending, "answers");
}

function checkFreezeTimes(draft: PolicyDocument, nowMs: number, problems: PolicyProblem[], warnings: PolicyProblem[]): void {
  const freezes: Array<[string, { since?: string; until?: string } | undefined]> = [
    ["freeze", draft.freeze],
    ...Object.entries(draft.channels ?? {}).map(([name, rule]): [string, typeof rule.freeze] => [fieldPath(["channels", name, "freeze"]), rule.freeze]),
    ...(draft.clusterGroups ?? []).map((group, index): [string, ScopeFreeze | undefined] => [`clusterGroups[${index}].freeze`, group.freeze]),
  ];
  for (const [field, freeze] of freezes) {
    if (!freeze) continue;
    const sinceMs = freeze.since === undefined ? nowMs : Date.parse(freeze.since);
    if (sinceMs > nowMs) problems.push({ field: `${field}.since`, message: `${freeze.since} is in the future; a freeze holds the answers of the moment it is applied, so apply it when it should start` });
    if (freeze.until !== undefined) {
      const untilMs = Date.parse(freeze.until);
      if (untilMs <= sinceMs) problems.push({ field: `${field}.until`, message: `${freeze.until} is not after the freeze's start; give a later time or remove until` });
      else if (untilMs <= nowMs) warnings.push({ field: `${field}.until`, message: `${freeze.until} has passed, so the freeze no longer applies` });
    }
  }
}

function checkClusterGroups(checker: StateChecker, draft: PolicyDocument, problems: PolicyProblem[]): void {
  const groups = draft.clusterGroups ?? [];
  const names = new Map<string, number>();
  const idOwners = new Map<string, number>();

  groups.forEach((group, index) => {
    const field = `clusterGroups[${index}]`;
    const earlier = names.get(group.name);
    if (earlier !== undefined) problems.push({ field: `${field}.name`, message: `"${group.name}" is also the name of clusterGroups[${earlier}]; group names must be unique` });
    names.set(group.name, index);
    if (group.channel !== undefined) checker.requireVisible(`${field}.channel`, group.channel);

    (group.clusters ?? []).forEach((id, position) => {
      const owner = idOwners.get(id);
      if (owner !== undefined && owner !== index) {
        problems.push({ field: `${field}.clusters[${position}]`, message: `cluster "${id}" is also listed in group "${groups[owner]!.name}"; list each cluster in one group` });
      }
      idOwners.set(id, index);
    });
  });

  // Patterns of two groups that can match one id must lead to the same answers.
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) {
      const [a, b] = [groups[i]!, groups[j]!];
      if (sameTreatment(a, b)) continue;
      for (const [position, pattern] of (b.patterns ?? []).entries()) {
        const clash = (a.patterns ?? []).find((other) => globsOverlap(other, pattern));
        if (clash === undefined) continue;
        problems.push({
          field: `clusterGroups[${j}].patterns[${position}]`,
          message: `"${pattern}" can match the same clusters as "${clash}" of group "${a.name}", which has a different ${a.channel !== b.channel ? "channel" : "freeze"}; narrow one of the patterns or list the clusters by id`,
        });
      }
    }
  }
}

function sameTreatment(a: ClusterGroup, b: ClusterGroup): boolean {
  return a.channel === b.channel && JSON.stringify(a.freeze ?? null) === JSON.stringify(b.freeze ?? null);
}

/** Checks every frozen value of a completed policy. */
function checkFrozenValues(checker: StateChecker, policy: PolicyDocument): void {
  const checkScope = (scope: PropertyKey[], freeze: ScopeFreeze | undefined) => {
    for (const [name, version] of Object.entries(freeze?.versions ?? {})) {
      const field = fieldPath([...scope, "versions", name]);
      if (!checker.visible.has(name)) checker.problems.push({ field, message: `freezes channel "${name}", which does not exist or is hidden; remove it` });
      else if (version !== null) checker.requireServable(field, version, "freezes at");
    }
  };
  checkScope(["freeze"], policy.freeze);
  for (const [name, rule] of Object.entries(policy.channels ?? {})) {
    const version = rule.freeze?.version;
    if (version !== undefined && version !== null) checker.requireServable(fieldPath(["channels", name, "freeze", "version"]), version, "freezes at");
  }
  (policy.clusterGroups ?? []).forEach((group, index) => checkScope(["clusterGroups", index, "freeze"], group.freeze));
}

function completeChange(change: PolicyChange, nowMs: number): PolicyDocument {
  const draft = structuredClone(change.draft);
  const now = new Date(nowMs).toISOString();
  const liveInput = inputFor(change, change.live);
  const unfrozenInput = inputFor(change, withoutFreezes(draft));
  const liveOrg = evaluateForGroup(liveInput, null);
  const unfrozenOrg = evaluateForGroup(unfrozenInput, null);
  const currentAnswer = (views: EffectivePolicy[], name: string): string | null | undefined => {
    for (const view of views) {
      const channel = view.channels.find((candidate) => candidate.name === name);
      if (channel) return channel.version;
    }
    return undefined;
  };

  // Org freeze: every visible channel gets a frozen value.
  if (draft.freeze) {
    draft.freeze.since ??= now;
    const versions = { ...(draft.freeze.versions ?? {}) };
    for (const channel of unfrozenOrg.channels) versions[channel.name] ??= currentAnswer([liveOrg, unfrozenOrg], channel.name) ?? null;
    draft.freeze.versions = versions;
  }

  for (const [name, rule] of Object.entries(draft.channels ?? {})) {
    if (rule.freeze) {
      rule.freeze.since ??= now;
      if (rule.freeze.version === undefined) rule.freeze.version = currentAnswer([liveOrg, unfrozenOrg], name) ?? null;
    }
    if (rule.pin !== undefined && !change.facts.offerable.has(rule.pin) && rule.whilePending === undefined) {
      rule.whilePending = currentAnswer([liveOrg], name) ?? null;
    }
  }

  for (const group of draft.clusterGroups ?? []) {
    if (!group.freeze) continue;
    group.freeze.since ??= now;
    const liveGroup = (change.live.clusterGroups ?? []).find((candidate) => candidate.name === group.name);
    const views = [
      ...(liveGroup ? [evaluateForGroup(liveInput, liveGroup)] : []),
      evaluateForGroup(unfrozenInput, { ...group, freeze: undefined }),
    ];
    const versions = { ...(group.freeze.versions ?? {}) };
    for (const channel of views.at(-1)!.channels) versions[channel.name] ??= currentAnswer(views, channel.name) ?? null;
    group.freeze.versions = versions;
  }
  return draft;
}

function withoutFreezes(policy: PolicyDocument): PolicyDocument {
  const { freeze: _org, ...rest } = policy;
  return {
    ...rest,
    ...(policy.channels ? { channels: Object.fromEntries(Object.entries(policy.channels).map(([name, { freeze: _channel, ...rule }]) => [name, rule])) } : {}),
    ...(policy.clusterGroups ? { clusterGroups: policy.clusterGroups.map(({ freeze: _group, ...group }) => group) } : {}),
  };
}
