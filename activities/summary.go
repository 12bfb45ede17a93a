package activities

import (
	"fmt"
	"sort"
	"strings"

	"mcp-platform/internal/redact"
)

// maxSummary bounds activity summaries shown in the Temporal UI.
const maxSummary = 200

// Summary describes a tool call in one line for the Temporal UI, such as
// "hr.get_employee employee_id=E001", with sensitive arguments redacted.
func Summary(tool string, args map[string]any, sensitive []string) string {
	red, _ := redact.Value(args, sensitive...).(map[string]any)
	keys := make([]string, 0, len(red))
	for k := range red {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(tool)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, red[k])
	}
	s := b.String()
	if len(s) > maxSummary {
		s = s[:maxSummary-1] + "…"
	}
	return s
}
