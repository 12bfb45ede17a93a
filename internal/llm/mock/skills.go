package mock

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Demo is what one domain teaches the mock: the requests it understands and how its results
// read best. Each builtin domain exports its own (hr.MockDemo, for example) next to its code,
// and the platform hands them all to New, so a domain's phrases never live in this package.
type Demo struct {
	// Skills are the kinds of request the domain's tools serve.
	Skills []Skill
	// Hints name the fields of the domain's results; they apply to every result the mock
	// writes an answer from.
	Hints Hints
	// Verbs are words that start the domain's requests beyond the common ones (get, show,
	// list, create, check, ...), such as "scale": after "and" or a comma they start a new
	// clause, so "list pods and scale web to 3" is two requests.
	Verbs []string
}

// Skill is one kind of plain-language request the mock understands and the tool that serves it:
// "get employee E001" is a request for hr.get_employee.
type Skill struct {
	// Tool is the namespaced tool that serves the request, such as "hr.get_employee". The
	// platform's own skills have none: they always answer with their match's Ask.
	Tool string
	// Action completes "I can't ... for you" when the user may not call Tool, such as "look up
	// employees".
	Action string
	// Examples are requests shown in the help text when Tool is offered; each should be a
	// request this skill finds.
	Examples []string
	// Priority orders skills across all demos: within a clause the skill of higher priority
	// claims its words first, so that a later, looser one does not match them again (a
	// manager question is not also an employee lookup). Give requests that read the rest of
	// the clause (create, scale) the highest, free text (names) the lowest. Skills of equal
	// priority are tried in the order New was given them.
	Priority int
	// Find returns the requests of this kind in one clause of the user's message (the message
	// is cut into clauses at sentence ends and at "and" or commas that start a new request).
	Find func(clause string) []Match
}

// Match is one request a Skill found in a clause: where it was said and either the arguments
// of the tool call or, when the request lacks something, the question to ask instead.
type Match struct {
	// Start and End are the byte offsets in the clause of the words the request claims.
	Start, End int
	// Args are the tool call's arguments, encoded as JSON with sorted keys.
	Args map[string]any
	// Ask, when set, is said instead of calling the tool, such as which pod's logs to show.
	Ask string
	// Tool, when set, is the tool that serves the request instead of the skill's: the
	// platform's skill that calls whichever tool the user names sets it.
	Tool string
}

// request is a match resolved against the user's message: the skill that found it.
type request struct {
	skill *Skill
	Match
}

// tool is the tool that serves the request: the match's own, or else its skill's.
func (r request) tool() string {
	if r.Match.Tool != "" {
		return r.Match.Tool
	}
	return r.skill.Tool
}

// action completes "I can't ... for you" for the request, and is what a tool search looks for.
func (r request) action() string {
	if r.Match.Tool != "" {
		return "call " + r.Match.Tool
	}
	return r.skill.Action
}

// parseRequests finds the requests in a user message, in the order they were made. The
// message is cut into clauses ("get employee E001 and show invoice INV-001" has two) so that
// free-text arguments such as a customer name end where the next request starts.
func (k *knowledge) parseRequests(text string) []request {
	var out []request
	seen := map[string]bool{}
	for _, clause := range k.clauses(text) {
		var claimed [][2]int
		var found []request
		for _, s := range k.skills {
			for _, match := range s.Find(clause) {
				if overlaps(claimed, match.Start, match.End) {
					continue
				}
				claimed = append(claimed, [2]int{match.Start, match.End})
				found = append(found, request{skill: s, Match: match})
			}
		}
		sort.SliceStable(found, func(i, j int) bool { return found[i].Start < found[j].Start })
		for _, r := range found {
			key := r.tool() + " " + canonicalJSON(r.Args) + r.Ask
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, r)
		}
	}
	return out
}

func overlaps(spans [][2]int, start, end int) bool {
	for _, s := range spans {
		if start < s[1] && s[0] < end {
			return true
		}
	}
	return false
}

var (
	reStrongSep = regexp.MustCompile(`[;!?\n]+|\.(?:\s+|$)`)
	reWeakSep   = regexp.MustCompile(`(?i)\s*,\s*(?:(?:and|then|also|plus)\s+)*|\s+(?:(?:and|then|also|plus)\s+)+`)
)

// genericVerbs start a request in any domain: questions and the common commands.
var genericVerbs = []string{"get", "show", "list", "find", "search", "who", "whom", "which", "what", "where", "how",
	"create", "make", "check", "give", "tell", "display", "fetch", "look", "pull", "read"}

// requestStartPattern recognises the start of a new request after "and" or a comma: a verb,
// perhaps after a polite or linking word. Nouns do not count: "pods and deployments in
// staging" is one request about staging.
func requestStartPattern(verbs []string) *regexp.Regexp {
	quoted := make([]string, len(verbs))
	for i, v := range verbs {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return regexp.MustCompile(`(?i)^(?:(?:please|pls|can you|could you|would you|also|then|now|and)\s+)*` +
		`(?:` + strings.Join(quoted, "|") + `)\b`)
}

// clauses cuts a message at sentence ends, and at "and", "then" or commas that start a new
// request; "5 x CMP-001 and 2 x CMP-002" or "Smith and Sons" stay whole.
func (k *knowledge) clauses(text string) []string {
	var out []string
	for _, sentence := range reStrongSep.Split(text, -1) {
		start := 0
		for _, sep := range reWeakSep.FindAllStringIndex(sentence, -1) {
			if sep[0] > start && k.requestStart.MatchString(sentence[sep[1]:]) {
				out = append(out, sentence[start:sep[0]])
				start = sep[1]
			}
		}
		out = append(out, sentence[start:])
	}
	kept := out[:0]
	for _, c := range out {
		if c = strings.TrimSpace(c); c != "" {
			kept = append(kept, c)
		}
	}
	return kept
}

// All runs patterns over a clause and builds a match for each hit: build gets the hit's text
// and submatches (as regexp's FindStringSubmatch gives them) and returns the tool call's
// arguments, or nil to skip the hit. It serves skills that make a call per hit, such as one
// lookup per ID.
func All(clause string, build func(sub []string) map[string]any, patterns ...*regexp.Regexp) []Match {
	var out []Match
	for _, re := range patterns {
		for _, idx := range re.FindAllStringSubmatchIndex(clause, -1) {
			sub := make([]string, len(idx)/2)
			for i := range sub {
				if idx[2*i] >= 0 {
					sub[i] = clause[idx[2*i]:idx[2*i+1]]
				}
			}
			if args := build(sub); args != nil {
				out = append(out, Match{Start: idx[0], End: idx[1], Args: args})
			}
		}
	}
	return out
}

// First is like All, keeping only the earliest match in the clause, for skills that make one
// call per clause (a list with filters).
func First(clause string, build func(sub []string) map[string]any, patterns ...*regexp.Regexp) []Match {
	ms := All(clause, build, patterns...)
	if len(ms) == 0 {
		return nil
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Start < ms[j].Start })
	return ms[:1]
}

// PadID writes an ID with at least three digits, as people shorten them: PadID("E", "12") is
// "E012", PadID("INV-", "7") is "INV-007".
func PadID(prefix, digits string) string {
	if len(digits) >= 3 {
		return prefix + digits
	}
	n, _ := strconv.Atoi(digits)
	return fmt.Sprintf("%s%03d", prefix, n)
}
