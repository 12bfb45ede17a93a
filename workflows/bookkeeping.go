package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// LocalBookkeepingChange is the workflow.GetVersion change ID of the bookkeeping moved into
// local activities. From version 1 on, a workflow publishes events, saves tool results,
// records approval requests and decisions and finishes its turn with local activities on the
// worker that runs it, so that a one-tool chat turn schedules three activity tasks (Complete,
// ExecuteTool on the domain's queue, Complete) instead of six; workflows started before keep
// scheduling them as activities when they replay.
const LocalBookkeepingChange = "local-bookkeeping"

// Versions of the workflows' code that their starters ask for in the input (Version), newest
// last. A starter that names the version it was built for spares every run the marker and the
// TemporalChangeVersion upsert that workflow.GetVersion records (one more history event and
// visibility write per run). A workflow's input is fixed for its whole life, so the choice
// replays the same; workflows started without a version (before there were any) decide by
// their GetVersion markers, as they did when they were recorded.
const (
	// VersionLocalBookkeeping: the bookkeeping runs as local activities
	// (LocalBookkeepingChange) without a marker.
	VersionLocalBookkeeping = 1
	// VersionFoldedSearchAttributes (ChatTurn): the Domains and Tools search attributes are
	// written with the turn's next TurnStatus change (a call waiting for approval, the turn's
	// end) instead of in an upsert of their own when a tool is first called: one visibility
	// write fewer per turn.
	VersionFoldedSearchAttributes = 2
	// VersionStepBookkeeping (ChatTurn): the LLM step records what follows from its answer in
	// the same write as its message (activities.CompleteInput.StepBookkeeping): tool_started
	// for the calls it plans that run at once, and the turn's end when it answers without
	// calls. The workflow then publishes tool_started only for calls a person approved, and
	// finishes with FinishTurn only a turn that did not complete: a one-tool turn records one
	// local activity (SaveToolResult) instead of three.
	VersionStepBookkeeping = 3
	// VersionFoldedToolResults (ChatTurn): the result of the call of a step that finishes last
	// is saved by the next LLM step (activities.CompleteInput.Results), in the round trip that
	// reads the history, instead of by SaveToolResult; the results of a turn's last step (no
	// LLM step follows: the step limit, a cancellation, a failure) are still saved by
	// SaveToolResult. A one-tool turn records no local activity.
	VersionFoldedToolResults = 4
	// CurrentVersion is the version today's starters ask for.
	CurrentVersion = VersionFoldedToolResults
)

// localBookkeeping reports whether this workflow runs its bookkeeping as local activities,
// version being its input's Version. Call it once, before the workflow's first command.
func localBookkeeping(ctx workflow.Context, version int) bool {
	if version >= VersionLocalBookkeeping {
		return true
	}
	return workflow.GetVersion(ctx, LocalBookkeepingChange, workflow.DefaultVersion, 1) == 1
}

// bookkeep runs one bookkeeping activity (fn with in), summary saying what it does in the
// Temporal UI: a local activity when local, else a scheduled activity on the workflow's queue.
//
// A local activity keeps the durability of a scheduled one: its result is recorded in the
// history when the workflow task completes, and one whose result was not recorded (its worker
// died) runs again when another worker replays the workflow, so every bookkeeping activity is
// idempotent (messages are upserted by position, events published once, audit rows recorded
// once, approvals created once).
func bookkeep(ctx workflow.Context, local bool, summary string, fn, in any) workflow.Future {
	if local {
		return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localRecordOptions(summary)), fn, in)
	}
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, recordOptions(summary)), fn, in)
}

// recordRetry is the retry policy of the quick bookkeeping activities: a database that is away
// for a while delays the turn, it does not fail it.
func recordRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, MaximumInterval: 10 * time.Second, MaximumAttempts: 20}
}

// recordOptions are the options of the quick bookkeeping activities scheduled by workflows
// older than LocalBookkeepingChange; summary says what the activity does, in the Temporal UI.
func recordOptions(summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{StartToCloseTimeout: 15 * time.Second, RetryPolicy: recordRetry(), Summary: summary}
}

// localRecordOptions are the options of the bookkeeping local activities: each attempt as long
// as a scheduled one's, and all attempts within the same bound as recordRetry's 20 attempts.
func localRecordOptions(summary string) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{StartToCloseTimeout: 15 * time.Second, ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy: recordRetry(), Summary: summary}
}
