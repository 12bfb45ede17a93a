package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The floor's task queues: the turn's floor runs its workflow and LLM activities on floorQueue
// (as ChatTurn does on `orchestrator`) and its tool activity on floorToolQueue (as a domain's
// tool runs on `domain-<name>`). The one-activity floor runs on floorToolQueue, as ToolRun runs
// on its domain's queue.
const (
	floorQueue     = "bench-floor"
	floorToolQueue = "bench-floor-tool"
)

// FloorInput is the input of both floor workflows.
type FloorInput struct {
	// ToolQueue is where the tool activity runs.
	ToolQueue string
}

// FloorResult is the result of both floor workflows.
type FloorResult struct {
	// Steps counts the activities that ran.
	Steps int
}

// NoopInput is the input of the floor's activities.
type NoopInput struct {
	// Step is the activity's position in its workflow.
	Step int
}

// NoopResult is the result of the floor's activities.
type NoopResult struct {
	// Step echoes the input.
	Step int
}

// floorActivities do nothing: what a call to them costs is Temporal's alone.
type floorActivities struct{}

// LLM stands in for the turn's LLM step.
func (*floorActivities) LLM(_ context.Context, in NoopInput) (NoopResult, error) {
	return NoopResult(in), nil
}

// Tool stands in for a tool call.
func (*floorActivities) Tool(_ context.Context, in NoopInput) (NoopResult, error) {
	return NoopResult(in), nil
}

// floorActivityOptions are the floor's activity options: explicit timeouts and a retry policy,
// as every platform activity has.
func floorActivityOptions(queue string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:           queue,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 3},
	}
}

// FloorTurn is the chat turn's floor: a no-op LLM activity, a no-op tool activity on a second
// task queue and a no-op LLM activity, which is the work a one-tool turn carries.
func FloorTurn(ctx workflow.Context, in FloorInput) (FloorResult, error) {
	a := (*floorActivities)(nil)
	llmCtx := workflow.WithActivityOptions(ctx, floorActivityOptions(floorQueue))
	toolCtx := workflow.WithActivityOptions(ctx, floorActivityOptions(in.ToolQueue))
	steps := []struct {
		ctx workflow.Context
		fn  func(context.Context, NoopInput) (NoopResult, error)
	}{{llmCtx, a.LLM}, {toolCtx, a.Tool}, {llmCtx, a.LLM}}
	for i, s := range steps {
		var res NoopResult
		if err := workflow.ExecuteActivity(s.ctx, s.fn, NoopInput{Step: i + 1}).Get(ctx, &res); err != nil {
			return FloorResult{Steps: i}, err
		}
	}
	return FloorResult{Steps: len(steps)}, nil
}

// FloorTool is the floor of one tool call (/execute, MCP tools/call): one no-op activity.
func FloorTool(ctx workflow.Context, in FloorInput) (FloorResult, error) {
	ctx = workflow.WithActivityOptions(ctx, floorActivityOptions(in.ToolQueue))
	var res NoopResult
	if err := workflow.ExecuteActivity(ctx, (*floorActivities)(nil).Tool, NoopInput{Step: 1}).Get(ctx, &res); err != nil {
		return FloorResult{}, err
	}
	return FloorResult{Steps: 1}, nil
}

// floor runs the floor's workers on a Temporal client and starts floor workflows.
type floor struct {
	tc    client.Client
	eager bool
	ws    []worker.Worker
}

// startFloor starts the floor's two workers on tc, with the SDK's default options, as the
// platform's workers have.
func startFloor(tc client.Client, eager bool) (*floor, error) {
	f := &floor{tc: tc, eager: eager}
	turn := worker.New(tc, floorQueue, worker.Options{Identity: "bench-floor"})
	turn.RegisterWorkflow(FloorTurn)
	turn.RegisterActivity(&floorActivities{})
	tool := worker.New(tc, floorToolQueue, worker.Options{Identity: "bench-floor-tool"})
	tool.RegisterWorkflow(FloorTool)
	tool.RegisterActivity(&floorActivities{})
	for _, w := range []worker.Worker{turn, tool} {
		if err := w.Start(); err != nil {
			f.stop()
			return nil, fmt.Errorf("start floor worker: %w", err)
		}
		f.ws = append(f.ws, w)
	}
	return f, nil
}

func (f *floor) stop() {
	for _, w := range f.ws {
		w.Stop()
	}
}

// run starts one floor workflow and waits for its result; it fails unless every activity ran.
func (f *floor) run(ctx context.Context, wf any, queue string, want int) error {
	run, err := f.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "bench-floor-" + uuid.NewString(),
		TaskQueue: queue,
		// A broken floor fails the operation instead of hanging the benchmark.
		WorkflowExecutionTimeout: 2 * time.Minute,
		EnableEagerStart:         f.eager,
	}, wf, FloorInput{ToolQueue: floorToolQueue})
	if err != nil {
		return fmt.Errorf("start floor workflow: %w", err)
	}
	var res FloorResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("floor workflow: %w", err)
	}
	if res.Steps != want {
		return fmt.Errorf("floor workflow ran %d activities, want %d", res.Steps, want)
	}
	return nil
}

// turn runs the three-activity floor of a chat turn.
func (f *floor) turn(ctx context.Context, _ int) error { return f.run(ctx, FloorTurn, floorQueue, 3) }

// tool runs the one-activity floor of a tool call.
func (f *floor) tool(ctx context.Context, _ int) error {
	return f.run(ctx, FloorTool, floorToolQueue, 1)
}
