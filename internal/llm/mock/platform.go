package mock

import (
	"regexp"
	"slices"
	"strings"
)

// The platform's own features that people ask the assistant about, though no tool serves
// them: what waits for their approval, and the audit log. The mock answers these in words,
// pointing to where the web UI shows them, rather than sending the words to a domain's tool
// ("invoices to approve?" is not a search for a customer named "approve", and "show me the
// audit log" is not a request for a pod's logs).

var (
	// reApprovalQuestion is a question about what waits for a decision.
	reApprovalQuestion = regexp.MustCompile(`(?i)\b(?:to|for|needing|needs?|requir(?:e|es|ing)|awaiting|waiting\s+(?:for|on)|pending|up\s+for)\s+` +
		`(?:my\s+|an?\s+|your\s+|our\s+|the\s+)?(?:approv(?:e|al|als|ing)|decisions?|sign-?off)\b|` +
		`\bpending\s+(?:approvals?|requests?|decisions?)\b|\bapprovals?\s+(?:queue|pending|waiting|list)\b|` +
		`\b(?:my|the)\s+approvals\b|\bwhat\s+(?:can|should|must|do|shall)\s+i\s+approve\b`)
	// reAuditLog is a request for the audit log or trail.
	reAuditLog = regexp.MustCompile(`(?i)\baudit(?:s|ing|ed)?\b`)
	// reNamedTool is a request to call a tool by its namespaced name ("call weather.get_forecast"):
	// how a user reaches a tool no demo teaches the mock, such as one of a domain onboarded by
	// configuration only (kind mcp or http).
	reNamedTool = regexp.MustCompile(`(?i:\b(?:call|use|run|invoke)\s+(?:the\s+)?(?:tool\s+)?)` + "`?" + `([a-z][a-z0-9_]*\.[a-z0-9_]+)\b` + "`?")
)

const (
	approvalsAnswer = "I can't approve or list approval requests from the chat. The requests waiting for your decision " +
		"are on the **Pending approvals** page (in the top bar): each shows the call, every argument and what it will " +
		"change, and you approve or reject it there with a comment. Requests you made yourself show their state in " +
		"the conversation that asked for them."
	auditAnswer = "I can't read the audit log from the chat. Auditors read it on the **Audit** page (in the top bar), " +
		"or with `GET /audit` on either server: every tool call, allowed or not, with who made it, its arguments " +
		"(sensitive values redacted), its outcome and who approved it."
)

// commandVerbs ask for a change: a clause with one of them, or with a demo's own verb, that
// mentions approval is about that change ("create an invoice ... that needs approval"), not a
// question about what waits for a decision.
var commandVerbs = []string{"create", "make", "raise", "issue", "draft", "prepare", "generate", "scale", "set",
	"restart", "delete", "deploy", "add", "update", "change", "cancel"}

// platformSkills are what every mock understands, whatever the domains: questions about the
// platform itself. They claim their whole clause before any domain's skill does. demoVerbs are
// the demos' own verbs, which start their requests.
func platformSkills(demoVerbs []string) []Skill {
	quoted := make([]string, 0, len(commandVerbs)+len(demoVerbs))
	for _, v := range append(slices.Clone(commandVerbs), demoVerbs...) {
		quoted = append(quoted, regexp.QuoteMeta(v))
	}
	reCommand := regexp.MustCompile(`(?i)\b(?:` + strings.Join(quoted, "|") + `)\b`)
	whole := func(re *regexp.Regexp, answer string, skip *regexp.Regexp) func(string) []Match {
		return func(clause string) []Match {
			if !re.MatchString(clause) || (skip != nil && skip.MatchString(clause)) {
				return nil
			}
			return []Match{{Start: 0, End: len(clause), Ask: answer}}
		}
	}
	return []Skill{
		{Action: "read the audit log", Priority: platformPriority + 1, Find: whole(reAuditLog, auditAnswer, nil)},
		{Action: "decide approvals", Priority: platformPriority, Find: whole(reApprovalQuestion, approvalsAnswer, reCommand)},
		{Action: "call a tool by its name", Priority: platformPriority - 1, Find: namedTools},
	}
}

// namedTools finds the calls of tools the user names ("call every.get_tiny_image"), without
// arguments: a tool that needs some answers with a validation error the model can read.
func namedTools(clause string) []Match {
	var out []Match
	for _, idx := range reNamedTool.FindAllStringSubmatchIndex(clause, -1) {
		out = append(out, Match{Start: idx[0], End: idx[1], Tool: clause[idx[2]:idx[3]], Args: map[string]any{}})
	}
	return out
}

// platformPriority ranks the platform's skills above any domain's.
const platformPriority = 1 << 20
