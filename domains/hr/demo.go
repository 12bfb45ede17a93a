package hr

import (
	"regexp"
	"strings"

	"mcp-platform/internal/llm/mock"
)

// MockDemo teaches the mock LLM the HR requests ("get employee E001", "who reports to E002?")
// and how HR results read best.
//
// The priorities place these skills after every other builtin domain's: a manager or reports
// question holds an employee ID, so it claims its words before the plain lookup does, and the
// directory search and department names read free text, which would swallow another domain's
// request, so they come last of all.
func MockDemo() mock.Demo {
	return mock.Demo{
		Skills: []mock.Skill{
			{Tool: "hr.get_manager", Action: "look up managers", Priority: 50, Find: byEmployeeID(reManager...),
				Examples: []string{"Who is E005's manager?"}},
			{Tool: "hr.list_reports", Action: "list direct reports", Priority: 45, Find: byEmployeeID(reReports...),
				Examples: []string{"Who reports to E002?"}},
			{Tool: "hr.get_employee", Action: "look up employees", Priority: 40, Find: byEmployeeID(reEmployee),
				Examples: []string{"Get employee E001"}},
			{Tool: "hr.search_employees", Action: "search the employee directory", Priority: 30, Find: findSearchEmployees,
				Examples: []string{"Who works in Engineering?", "Find Johnson"}},
			{Tool: "hr.get_department", Action: "look up departments", Priority: 20, Find: findDepartment,
				Examples: []string{"Show the Engineering department"}},
			{Tool: "hr.list_departments", Action: "list departments", Priority: 10, Find: findListDepartments,
				Examples: []string{"List departments"}},
		},
		Hints: mock.Hints{
			NameKeys: []string{"name", "employee_name"},
			IDKeys:   []string{"id", "employee_id"},
			FieldOrder: []string{"title", "department", "status", "email", "location", "manager", "manager_name", "head",
				"headcount", "currency", "hire_date", "direct_reports", "salary"},
			ColumnOrder: []string{"id", "name", "employee_name", "title", "description", "department", "status", "headcount",
				"head", "location", "email"},
			MoneyKeys: []string{"salary"},
		},
	}
}

// employeeID is the pattern of an employee ID as people write it: "E001", "e12", "E-7".
const employeeID = `\b([eE]-?\d{1,6})\b`

// normEmployeeID writes an employee ID as the tools expect it: "e-7" → "E007".
func normEmployeeID(s string) string {
	return mock.PadID("E", strings.TrimLeft(strings.ToLower(s), "e-"))
}

var (
	reManager = []*regexp.Regexp{
		regexp.MustCompile(`(?i)\b(?:line\s+)?(?:manager|boss|supervisor)\s+(?:of|for)\s+(?:employee\s+)?` + employeeID),
		regexp.MustCompile(`(?i)` + employeeID + `(?:'s|’s|s)?\s+(?:direct\s+|line\s+)?(?:manager|boss|supervisor)\b`),
		regexp.MustCompile(`(?i)\bwho\s+(?:does|do|did)\s+(?:employee\s+)?` + employeeID + `\s+reports?\s+to\b`),
		regexp.MustCompile(`(?i)\bwho\s+manages\s+(?:employee\s+)?` + employeeID),
		regexp.MustCompile(`(?i)` + employeeID + `\s+reports?\s+to\s+whom\b`),
	}
	reReports = []*regexp.Regexp{
		regexp.MustCompile(`(?i)\breports?\s+(?:directly\s+)?(?:to|into)\s+(?:employee\s+)?` + employeeID),
		regexp.MustCompile(`(?i)\b(?:direct\s+)?(?:reports|team|subordinates)\s+(?:of|for)\s+(?:employee\s+)?` + employeeID),
		regexp.MustCompile(`(?i)` + employeeID + `(?:'s|’s)?\s+(?:direct\s+)?(?:reports|team|subordinates)\b`),
		regexp.MustCompile(`(?i)\bwho\s+does\s+(?:employee\s+)?` + employeeID + `\s+manage\b`),
	}
	reEmployee = regexp.MustCompile(`(?i)(?:\bemployee\s+)?` + employeeID)
)

// byEmployeeID finds a request for each employee ID the patterns catch in their first group.
func byEmployeeID(patterns ...*regexp.Regexp) func(clause string) []mock.Match {
	return func(clause string) []mock.Match {
		return mock.All(clause, func(sub []string) map[string]any {
			return map[string]any{"employee_id": normEmployeeID(sub[1])}
		}, patterns...)
	}
}

var (
	reWhoWorks = regexp.MustCompile(`(?i)\bwho\s+(?:works|work|is\s+working|are\s+working|is|are)\s+(?:in|at|for|on)\s+(?:the\s+)?(.+)`)
	reStaffIn  = regexp.MustCompile(`(?i)\b(?:employees|people|staff|members|colleagues|everyone|everybody|anyone)\s+` +
		`(?:who\s+)?(?:are\s+|is\s+|working\s+|work\s+|works\s+)?(?:in|from|of|at)\s+(?:the\s+)?(.+)`)
	reSearch   = regexp.MustCompile(`(?i)\bsearch\s+(?:for\s+)?(?:the\s+)?(?:employees?|people|staff|directory)?\b\s*(.*)`)
	reFind     = regexp.MustCompile(`(?i)\b(?:find|look\s+up|lookup)\s+(?:me\s+)?(.+)`)
	reListAll  = regexp.MustCompile(`(?i)\b(?:list|show|get|give)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?(?:employees|staff|people)\b(.*)`)
	reWhoIsNam = regexp.MustCompile(`\b(?:[Ww]ho\s+is|[Ww]ho's)\s+([A-Z][\p{L}'-]+(?:\s+[A-Z][\p{L}'-]+)*)`)
	// rePersonal is a question about a named person's record: "Michael Chen's manager",
	// "what's Priya Patel's email?". The tools look people up by ID, so the directory search
	// finds them by name; its result shows the manager, title, department and email.
	rePersonal = regexp.MustCompile(`\b([A-Z](?:['’][A-Z])?[\p{L}-]+(?:\s+[A-Z](?:['’][A-Z])?[\p{L}-]+)*)(?:'s|’s)\s+` +
		`(?:(?:direct|line|current|work|job|e-?mail)\s+)?(?:manager|boss|supervisor|email|e-?mail|address|phone|title|job|role|` +
		`position|department|dept|team|location|office|record|details|profile|status|hire\s+date|start\s+date)\b`)
	rePossessive = regexp.MustCompile(`(?:'s|’s)$`)

	reDeptSuffix = regexp.MustCompile(`(?i)^(?:the\s+)?(.+?)\s+(?:department|dept\.?|team)\b`)
	reDeptPrefix = regexp.MustCompile(`(?i)\b(?:department|dept\.?)\s+(?:of\s+)?([\p{L}&][\p{L}& ]*)$`)
	reDeptIn     = regexp.MustCompile(`(?i)\s*\b(?:in|from|at|of)\s+(?:the\s+)?([\p{L}&][\p{L}& ]*?)(?:\s+(?:department|dept\.?|team))?\s*$`)
	reDeptLead   = regexp.MustCompile(`(?i)^(?:(?:the|department|dept\.?|of)\s+)+`)
	reTrailPrep  = regexp.MustCompile(`(?i)(?:\s+(?:in|from|at|of|the|and))+\s*$`)
	reQueryLead  = regexp.MustCompile(`(?i)^(?:(?:an?|the|all|any|some)\s+)?(?:(?:employees?|people|persons?|someone|somebody|anyone|staff|colleagues?)\s+)?` +
		`(?:(?:named|called|matching|with\s+(?:the\s+)?(?:name|title)|titled|for|whose\s+name\s+is)\s+)?`)
)

// notDept are words that stand where a department name would, without naming one.
var notDept = map[string]bool{"": true, "the": true, "me": true, "a": true, "an": true, "my": true, "our": true,
	"this": true, "that": true, "your": true, "each": true, "every": true, "which": true, "what": true, "all": true}

// deptName tidies a department named in free text: "engineering team" → "Engineering",
// "hr" → "HR".
func deptName(s string) string {
	s = strings.Trim(strings.TrimSpace(s), `"'.,`)
	if m := reDeptSuffix.FindStringSubmatch(s + " "); m != nil {
		s = m[1]
	}
	s = strings.TrimSpace(reDeptLead.ReplaceAllString(s, ""))
	if notDept[strings.ToLower(s)] {
		return ""
	}
	if len(s) <= 3 {
		return strings.ToUpper(s)
	}
	words := strings.Fields(s)
	for i, w := range words {
		if lw := strings.ToLower(w); lw == "and" || lw == "of" || lw == "&" {
			words[i] = lw
			continue
		}
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// searchArgs reads an optional department and query from what follows "search" or "find".
func searchArgs(rest string) map[string]any {
	rest = strings.Trim(strings.TrimSpace(rest), `"'`)
	args := map[string]any{}
	if m := reDeptPrefix.FindStringSubmatchIndex(rest); m != nil {
		args["department"] = deptName(rest[m[2]:m[3]])
		rest = rest[:m[0]]
	} else if m := reDeptIn.FindStringSubmatchIndex(rest); m != nil {
		args["department"] = deptName(rest[m[2]:m[3]])
		rest = rest[:m[0]]
	}
	rest = reTrailPrep.ReplaceAllString(" "+strings.TrimSpace(rest), "")
	q := strings.TrimSpace(reQueryLead.ReplaceAllString(strings.TrimSpace(rest), ""))
	q = strings.Trim(q, `"' `)
	if q != "" {
		args["query"] = singularRole(q)
	}
	return args
}

// singularRole turns a plural job word into the text found in titles: "engineers" →
// "engineer". Names are left alone.
func singularRole(q string) string {
	if q != strings.ToLower(q) || strings.Contains(q, " ") {
		return q
	}
	for _, suffix := range []string{"ers", "ors", "ists", "ants", "ents"} {
		if strings.HasSuffix(q, suffix) {
			return strings.TrimSuffix(q, "s")
		}
	}
	return q
}

func findSearchEmployees(clause string) []mock.Match {
	dept := func(sub []string) map[string]any {
		if d := deptName(sub[1]); d != "" {
			return map[string]any{"department": d}
		}
		return nil
	}
	if ms := mock.First(clause, func(sub []string) map[string]any { return searchArgs(sub[1]) }, reListAll, reSearch); ms != nil {
		return ms
	}
	if ms := mock.First(clause, dept, reWhoWorks, reStaffIn); ms != nil {
		return ms
	}
	if ms := mock.First(clause, func(sub []string) map[string]any {
		if name := personName(sub[1]); name != "" {
			return map[string]any{"query": name}
		}
		return nil
	}, rePersonal); ms != nil {
		return ms
	}
	return mock.First(clause, func(sub []string) map[string]any {
		if args := searchArgs(rePossessive.ReplaceAllString(sub[1], "")); len(args) > 0 {
			return args
		}
		return nil
	}, reFind, reWhoIsNam)
}

// sentenceStart are capitalised words that start a question or command, not a name.
var sentenceStart = map[string]bool{"what": true, "what's": true, "whats": true, "who": true, "who's": true, "show": true,
	"get": true, "find": true, "give": true, "tell": true, "list": true, "display": true, "please": true, "is": true,
	"does": true, "and": true, "also": true, "then": true, "me": true, "where": true, "when": true, "how": true}

// personName drops the words that start the sentence from a capitalised run: "Show Michael
// Chen" → "Michael Chen".
func personName(s string) string {
	words := strings.Fields(s)
	for len(words) > 0 && sentenceStart[strings.ToLower(strings.ReplaceAll(words[0], "’", "'"))] {
		words = words[1:]
	}
	return strings.Join(words, " ")
}

var reDepartment = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b(?:get|show|describe|about|details\s+(?:of|on|for)|info\s+(?:on|about))\s+(?:me\s+)?(?:the\s+)?` +
		`(?:department|dept\.?)\s+([\p{L}&]+(?:\s+[\p{L}&]+)?)`),
	regexp.MustCompile(`(?i)\b(?:get|show|describe|about|details\s+(?:of|on|for)|info\s+(?:on|about))\s+(?:me\s+)?(?:the\s+)?` +
		`([\p{L}&]+(?:\s+[\p{L}&]+)?)\s+(?:department|dept\b)`),
}

func findDepartment(clause string) []mock.Match {
	return mock.First(clause, func(sub []string) map[string]any {
		d := deptName(sub[1])
		if d == "" {
			return nil
		}
		return map[string]any{"department": d}
	}, reDepartment...)
}

var reDepartments = regexp.MustCompile(`(?i)\bdepartments\b|\borg(?:ani[sz]ation(?:al)?)?\s*chart\b`)

func findListDepartments(clause string) []mock.Match {
	return mock.First(clause, func([]string) map[string]any { return map[string]any{} }, reDepartments)
}
