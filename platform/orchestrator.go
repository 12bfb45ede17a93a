package platform

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/worker"

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/llm"
	"mcp-platform/internal/temporalx"
	"mcp-platform/internal/usage"
	"mcp-platform/toolcall"
	"mcp-platform/workflows"
)

// RunOrchestrator runs the orchestrator worker until ctx ends: ChatTurn workflows and their
// LLM, history and event activities, on the orchestrator task queue. It keeps its own view of
// the tool registry, so the LLM is offered exactly the tools each user may call right now.
func RunOrchestrator(ctx context.Context, e *Env, provider llm.Provider) error {
	err := runOrchestrator(ctx, e, provider)
	if ctx.Err() != nil {
		return nil // stopped, possibly while starting
	}
	return err
}

func runOrchestrator(ctx context.Context, e *Env, provider llm.Provider) error {
	logger := e.Logger.With("worker", "orchestrator")
	if err := temporalx.EnsureSearchAttributes(ctx, e.Temporal, e.Cfg.Temporal.Namespace, temporalx.SearchAttributes()); err != nil {
		return fmt.Errorf("register search attributes: %w", err)
	}
	enf, err := authz.NewEnforcer()
	if err != nil {
		return err
	}
	cat := registry.NewCatalog(registry.New(e.Pool), enf, logger)
	if err := cat.Refresh(ctx); err != nil {
		return fmt.Errorf("load tool registry: %w", err)
	}
	go cat.Run(ctx)

	w := worker.New(e.Temporal, workflows.OrchestratorQueue, worker.Options{
		Identity:          workerIdentity("orchestrator"),
		WorkerStopTimeout: e.Cfg.Server.ShutdownTimeout,
	})
	workflows.Trust(e.Trust)
	w.RegisterWorkflow(workflows.ChatTurn)
	w.RegisterActivity(&activities.ApprovalActivities{
		Approvals:     e.approvalStore(),
		Events:        events.NewStore(e.Pool),
		Conversations: conversations.NewStore(e.Pool),
		Audit:         e.auditLog(),
		Logger:        logger,
	})
	w.RegisterActivity(&activities.ChatActivities{
		Conversations: conversations.NewStore(e.Pool),
		Events:        events.NewStore(e.Pool),
		LLM:           llm.Instrument(provider, e.Metrics),
		Usage: &usage.Meter{Budget: usage.Budget{Store: usage.NewStore(e.Pool), TokensPerDay: e.Cfg.Quota.TokensPerDay},
			Provider: e.Cfg.LLM.Provider, Logger: logger},
		Tools:           &toolcall.Planner{Catalog: cat, Authz: enf, Audit: e.auditLog(), Logger: logger, LLMTools: e.Cfg.Limits.LLMTools},
		Trust:           e.Trust,
		MaxCallsPerStep: e.Cfg.Limits.ToolCallsPerStep,
		MaxCallsPerTurn: e.Cfg.Limits.ToolCallsPerTurn,
		Logger:          logger,
	})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start orchestrator worker: %w", err)
	}
	logger.Info("orchestrator worker ready", "task_queue", workflows.OrchestratorQueue)
	<-ctx.Done()
	logger.Info("orchestrator worker stopping")
	w.Stop()
	return nil
}
