package platform

import (
	"fmt"
	"strings"

	"mcp-platform/internal/config"
	"mcp-platform/internal/llm"
	"mcp-platform/internal/llm/mock"
)

// NewLLM builds the LLM provider cfg names: the mock, taught the demos (those of the builtin
// domains, Adapters.MockDemos), or a provider of the OpenAI family. Its errors name the
// setting to fix (LLM_PROVIDER, LLM_API_KEY, LLM_API_BASE, LLM_MODEL) and wrap an *llm.Error of
// kind KindBadRequest.
func NewLLM(cfg config.LLM, demos []mock.Demo) (llm.Provider, error) {
	var p llm.Provider
	var err error
	switch strings.ToLower(strings.TrimSpace(cfg.Provider)) {
	case llm.ProviderMock:
		p = mock.New(demos...)
	case llm.ProviderOpenAI, llm.ProviderAzureOpenAI, llm.ProviderOpenAICompatible:
		p, err = llm.NewOpenAI(llm.Config{Provider: cfg.Provider, APIKey: cfg.APIKey, APIBase: cfg.APIBase, Model: cfg.Model,
			OmitStreamUsage: !cfg.StreamUsage})
	default:
		err = &llm.Error{Kind: llm.KindBadRequest, Message: fmt.Sprintf("unknown LLM provider %q: set LLM_PROVIDER to "+
			"mock, openai, azure_openai or openai_compatible", cfg.Provider)}
	}
	if err != nil {
		return nil, fmt.Errorf("LLM provider (LLM_PROVIDER=%s): %w", cfg.Provider, err)
	}
	return p, nil
}
