package llm

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// An intent is a kind of plain-language request the mock understands and the tool that
// serves it.
type intent struct {
	tool string
	// action completes "I can't ... for you" when the user may not use the tool.
	action string
	// examples are shown in the help text when the tool is available.
	examples []string
	// find returns the requests of this kind in one clause of the user's message.
	find func(clause string) []match
}

// A match is one request found in a clause: a tool call with its arguments, or, when the
// request lacks something, the question to ask instead.
type match struct {
	start, end int
	args       map[string]any
	ask        string
}

// A request is a match resolved against the user's message: its tool and where it was said.
type request struct {
	intent *intent
	match
	clause int
}

// Building blocks of the patterns.
const (
	employeeID = `\b([eE]-?\d{1,6})\b`
	k8sName    = `([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?)`
)

var (
	reInvoiceID  = regexp.MustCompile(`(?i)\binv(?:oice)?(?:\s*(?:no\.?|number|#)\s*|\s*-\s*|\s+)?(\d{1,9})\b`)
	reSKU        = regexp.MustCompile(`\b([A-Za-z]{2,4})-(\d{3,5})\b`)
	reCustomerID = regexp.MustCompile(`\b[cC](\d{3,6})\b`)
	reDigits     = regexp.MustCompile(`\d+`)
)

// intents lists what the mock understands, most specific first: within a clause an earlier
// intent claims its words so a later, looser one does not match them again.
var intents = []*intent{
	{tool: "erp.create_invoice", action: "create invoices", find: findCreateInvoice,
		examples: []string{"Create an invoice for Northwind Traders for 5 x CMP-001"}},
	{tool: "devops.scale_deployment", action: "scale deployments", find: findScale,
		examples: []string{"Scale api-server to 3 replicas in staging"}},
	{tool: "devops.get_pod_logs", action: "read pod logs", find: findPodLogs,
		examples: []string{"Show the logs of api-server-7d9f8b6c4-x2k9p in production"}},
	{tool: "devops.list_deployments", action: "list deployments", find: findListDeployments,
		examples: []string{"List deployments in staging"}},
	{tool: "devops.list_pods", action: "list pods", find: findListPods,
		examples: []string{"List pods in production"}},
	{tool: "erp.get_invoice", action: "look up invoices", find: findGetInvoice,
		examples: []string{"Show invoice INV-001"}},
	{tool: "erp.list_invoices", action: "list invoices", find: findListInvoices,
		examples: []string{"List overdue invoices", "List invoices for Northwind Traders"}},
	{tool: "erp.check_low_stock", action: "check stock levels", find: findLowStock,
		examples: []string{"Which components are low on stock?"}},
	{tool: "erp.get_inventory_item", action: "look up inventory items", find: findInventoryItem,
		examples: []string{"How many CMP-001 are in stock?"}},
	{tool: "hr.get_manager", action: "look up managers", find: findManager,
		examples: []string{"Who is E005's manager?"}},
	{tool: "hr.list_reports", action: "list direct reports", find: findReports,
		examples: []string{"Who reports to E002?"}},
	{tool: "hr.get_employee", action: "look up employees", find: findEmployee,
		examples: []string{"Get employee E001"}},
	{tool: "hr.search_employees", action: "search the employee directory", find: findSearchEmployees,
		examples: []string{"Who works in Engineering?", "Find Johnson"}},
	{tool: "hr.get_department", action: "look up departments", find: findDepartment,
		examples: []string{"Show the Engineering department"}},
	{tool: "hr.list_departments", action: "list departments", find: findListDepartments,
		examples: []string{"List departments"}},
}

// intentFor returns the intent served by a tool, or nil.
func intentFor(tool string) *intent {
	for _, in := range intents {
		if in.tool == tool {
			return in
		}
	}
	return nil
}

// parseRequests finds the requests in a user message, in the order they were made. The
// message is cut into clauses ("get employee E001 and show invoice INV-001" has two) so that
// free-text arguments such as a customer name end where the next request starts.
func parseRequests(text string) []request {
	var out []request
	seen := map[string]bool{}
	for ci, clause := range clauses(text) {
		var claimed [][2]int
		var found []request
		for _, in := range intents {
			for _, m := range in.find(clause) {
				if overlaps(claimed, m.start, m.end) {
					continue
				}
				claimed = append(claimed, [2]int{m.start, m.end})
				found = append(found, request{intent: in, match: m, clause: ci})
			}
		}
		sort.SliceStable(found, func(i, j int) bool { return found[i].start < found[j].start })
		for _, r := range found {
			key := r.intent.tool + " " + canonicalJSON(r.args) + r.ask
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
	// reRequestStart recognises the start of a new request after "and" or a comma.
	// Nouns do not count: "pods and deployments in staging" is one request about staging.
	reRequestStart = regexp.MustCompile(`(?i)^(?:(?:please|pls|can you|could you|would you|also|then|now|and)\s+)*` +
		`(?:get|show|list|find|search|who|whom|which|what|where|how|scale|create|make|raise|issue|draft|prepare|` +
		`check|give|tell|display|fetch|look|pull|read|tail)\b`)
)

// clauses cuts a message at sentence ends, and at "and", "then" or commas that start a new
// request; "5 x CMP-001 and 2 x CMP-002" or "Smith and Sons" stay whole.
func clauses(text string) []string {
	var out []string
	for _, sentence := range reStrongSep.Split(text, -1) {
		start := 0
		for _, sep := range reWeakSep.FindAllStringIndex(sentence, -1) {
			if sep[0] > start && reRequestStart.MatchString(sentence[sep[1]:]) {
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

// all runs patterns over a clause and builds a match for each hit with build, which returns
// nil to skip a hit.
func all(clause string, build func(sub []string) map[string]any, patterns ...*regexp.Regexp) []match {
	var out []match
	for _, re := range patterns {
		for _, idx := range re.FindAllStringSubmatchIndex(clause, -1) {
			sub := make([]string, len(idx)/2)
			for i := range sub {
				if idx[2*i] >= 0 {
					sub[i] = clause[idx[2*i]:idx[2*i+1]]
				}
			}
			if args := build(sub); args != nil {
				out = append(out, match{start: idx[0], end: idx[1], args: args})
			}
		}
	}
	return out
}

// first is like all, for intents that make one call per clause.
func first(clause string, build func(sub []string) map[string]any, patterns ...*regexp.Regexp) []match {
	ms := all(clause, build, patterns...)
	if len(ms) == 0 {
		return nil
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].start < ms[j].start })
	return ms[:1]
}

// padID writes an ID with at least three digits: "e12" → "E012", "inv-7" → "INV-007".
func padID(prefix, digits string) string {
	if len(digits) >= 3 {
		return prefix + digits
	}
	n, _ := strconv.Atoi(digits)
	return fmt.Sprintf("%s%03d", prefix, n)
}

func normEmployeeID(s string) string {
	return padID("E", strings.TrimLeft(strings.ToLower(s), "e-"))
}

// HR.

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

func findManager(clause string) []match {
	return all(clause, func(sub []string) map[string]any {
		return map[string]any{"employee_id": normEmployeeID(sub[1])}
	}, reManager...)
}

func findReports(clause string) []match {
	return all(clause, func(sub []string) map[string]any {
		return map[string]any{"employee_id": normEmployeeID(sub[1])}
	}, reReports...)
}

func findEmployee(clause string) []match {
	return all(clause, func(sub []string) map[string]any {
		return map[string]any{"employee_id": normEmployeeID(sub[1])}
	}, reEmployee)
}

var (
	reWhoWorks = regexp.MustCompile(`(?i)\bwho\s+(?:works|work|is\s+working|are\s+working|is|are)\s+(?:in|at|for|on)\s+(?:the\s+)?(.+)`)
	reStaffIn  = regexp.MustCompile(`(?i)\b(?:employees|people|staff|members|colleagues|everyone|everybody|anyone)\s+` +
		`(?:who\s+)?(?:are\s+|is\s+|working\s+|work\s+|works\s+)?(?:in|from|of|at)\s+(?:the\s+)?(.+)`)
	reSearch   = regexp.MustCompile(`(?i)\bsearch\s+(?:for\s+)?(?:the\s+)?(?:employees?|people|staff|directory)?\b\s*(.*)`)
	reFind     = regexp.MustCompile(`(?i)\b(?:find|look\s+up|lookup)\s+(?:me\s+)?(.+)`)
	reListAll  = regexp.MustCompile(`(?i)\b(?:list|show|get|give)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?(?:employees|staff|people)\b(.*)`)
	reWhoIsNam = regexp.MustCompile(`\b(?:[Ww]ho\s+is|[Ww]ho's)\s+([A-Z][\p{L}'-]+(?:\s+[A-Z][\p{L}'-]+)*)`)

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

func findSearchEmployees(clause string) []match {
	dept := func(sub []string) map[string]any {
		if d := deptName(sub[1]); d != "" {
			return map[string]any{"department": d}
		}
		return nil
	}
	if ms := first(clause, func(sub []string) map[string]any { return searchArgs(sub[1]) }, reListAll, reSearch); ms != nil {
		return ms
	}
	if ms := first(clause, dept, reWhoWorks, reStaffIn); ms != nil {
		return ms
	}
	return first(clause, func(sub []string) map[string]any {
		if args := searchArgs(sub[1]); len(args) > 0 {
			return args
		}
		return nil
	}, reFind, reWhoIsNam)
}

var reDepartment = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b(?:get|show|describe|about|details\s+(?:of|on|for)|info\s+(?:on|about))\s+(?:me\s+)?(?:the\s+)?` +
		`(?:department|dept\.?)\s+([\p{L}&]+(?:\s+[\p{L}&]+)?)`),
	regexp.MustCompile(`(?i)\b(?:get|show|describe|about|details\s+(?:of|on|for)|info\s+(?:on|about))\s+(?:me\s+)?(?:the\s+)?` +
		`([\p{L}&]+(?:\s+[\p{L}&]+)?)\s+(?:department|dept\b)`),
}

func findDepartment(clause string) []match {
	return first(clause, func(sub []string) map[string]any {
		d := deptName(sub[1])
		if d == "" {
			return nil
		}
		return map[string]any{"department": d}
	}, reDepartment...)
}

var reDepartments = regexp.MustCompile(`(?i)\bdepartments\b|\borg(?:ani[sz]ation(?:al)?)?\s*chart\b`)

func findListDepartments(clause string) []match {
	return first(clause, func([]string) map[string]any { return map[string]any{} }, reDepartments)
}

// ERP.

var (
	reCreateInvoice = regexp.MustCompile(`(?i)\b(?:create|make|raise|issue|draft|prepare|generate|write|open|new)\b` +
		`(?:\s+(?:a|an|the|new|draft|me))*\s+invoice\b`)
	reForCustomer  = regexp.MustCompile(`(?i)\b(?:for|to)\s+(?:customer\s+)?`)
	reCustomerEnd  = regexp.MustCompile(`(?i)\s*(?:[,:;(]|\s(?:for|with|containing|including|due|of|please)\b|\s\d+\s*(?:x|×|\*|units?|pcs|pieces)?\s|$)`)
	reQtySKU       = regexp.MustCompile(`(?i)\b(\d+)\s*(?:x|×|\*)?\s*(?:(?:units?|pcs\.?|pieces|items?)\s+)?(?:of\s+)?(?:sku\s+)?\b([A-Za-z]{2,4}-\d{3,5})\b`)
	reSKUQty       = regexp.MustCompile(`(?i)\b([A-Za-z]{2,4}-\d{3,5})\s*(?:x|×|\*|qty:?|quantity:?)\s*(\d+)\b`)
	reDueInDays    = regexp.MustCompile(`(?i)\bdue\s+in\s+(\d+)\s+days?\b`)
	askInvoiceInfo = `To create an invoice I need the customer and the items with quantities, for example: ` +
		`"create an invoice for Northwind Traders for 5 x CMP-001 and 2 x NET-002".`
)

func findCreateInvoice(clause string) []match {
	loc := reCreateInvoice.FindStringIndex(clause)
	if loc == nil {
		return nil
	}
	m := match{start: loc[0], end: len(clause)}
	customer := ""
	if id := reCustomerID.FindStringSubmatch(clause); id != nil {
		customer = padID("C", id[1])
	} else {
		after := clause[loc[1]:]
		for _, f := range reForCustomer.FindAllStringIndex(after, -1) {
			rest := after[f[1]:]
			if rest == "" || (rest[0] >= '0' && rest[0] <= '9') {
				continue
			}
			end := reCustomerEnd.FindStringIndex(rest)
			customer = strings.Trim(strings.TrimSpace(rest[:end[0]]), `"'`)
			if customer != "" {
				break
			}
		}
	}
	var items []any
	covered := map[string]bool{}
	for _, q := range reQtySKU.FindAllStringSubmatch(clause, -1) {
		if sku := strings.ToUpper(q[2]); !strings.HasPrefix(sku, "INV-") {
			n, _ := strconv.Atoi(q[1])
			items = append(items, map[string]any{"sku": sku, "quantity": n})
			covered[sku] = true
		}
	}
	for _, q := range reSKUQty.FindAllStringSubmatch(clause, -1) {
		if sku := strings.ToUpper(q[1]); !covered[sku] && !strings.HasPrefix(sku, "INV-") {
			n, _ := strconv.Atoi(q[2])
			items = append(items, map[string]any{"sku": sku, "quantity": n})
			covered[sku] = true
		}
	}
	for _, s := range reSKU.FindAllString(clause, -1) {
		if s = strings.ToUpper(s); !covered[s] && !strings.HasPrefix(s, "INV-") {
			items = nil // a SKU without a quantity: ask rather than guess
			break
		}
	}
	if customer == "" || len(items) == 0 {
		m.ask = askInvoiceInfo
		return []match{m}
	}
	m.args = map[string]any{"customer": customer, "items": items}
	if d := reDueInDays.FindStringSubmatch(clause); d != nil {
		n, _ := strconv.Atoi(d[1])
		m.args["due_in_days"] = n
	}
	return []match{m}
}

func findGetInvoice(clause string) []match {
	return all(clause, func(sub []string) map[string]any {
		return map[string]any{"invoice_id": padID("INV-", sub[1])}
	}, reInvoiceID)
}

var (
	reInvoices        = regexp.MustCompile(`(?i)\binvoices\b|\b(?:overdue|paid|draft|sent)\s+invoice\b`)
	reInvoiceStatus   = regexp.MustCompile(`(?i)\b(overdue|paid|draft|sent)\b`)
	reInvoiceCustomer = regexp.MustCompile(`(?i)\b(?:for|of|from|by|to)\s+(?:customer\s+|client\s+)?([\p{L}0-9&][\p{L}0-9&.'’ -]*?)` +
		`\s*(?:$|[,;(]|\s(?:that|which|who|with|in|are|is|where|due|since|from|sorted|ordered|please|overdue|paid|draft|sent)\b)`)
	reOwnerInvoices = regexp.MustCompile(`\b([A-Z][\p{L}0-9&.-]*(?:\s+[A-Z][\p{L}0-9&.-]*)*)(?:'s|’s)\s+(?:\w+\s+)?invoices\b`)
	reInvoiceLimit  = regexp.MustCompile(`(?i)\b(?:last|latest|top|first|recent)\s+(\d+)\b|\b(\d+)\s+(?:(?:overdue|paid|draft|sent|latest|recent)\s+)?invoices\b`)
)

// notCustomer are words that follow "for" in an invoice request without naming a customer.
var notCustomer = map[string]bool{"me": true, "all": true, "us": true, "everyone": true, "all customers": true,
	"every customer": true, "customers": true, "this month": true, "last month": true, "this year": true}

func findListInvoices(clause string) []match {
	return first(clause, func([]string) map[string]any {
		args := map[string]any{}
		if s := reInvoiceStatus.FindStringSubmatch(clause); s != nil {
			args["status"] = strings.ToLower(s[1])
		}
		if id := reCustomerID.FindStringSubmatch(clause); id != nil {
			args["customer"] = padID("C", id[1])
		} else if c := reInvoiceCustomer.FindStringSubmatch(clause); c != nil && !notCustomer[strings.ToLower(strings.TrimSpace(c[1]))] {
			args["customer"] = strings.Trim(strings.TrimSpace(c[1]), `"'`)
		} else if o := reOwnerInvoices.FindStringSubmatch(clause); o != nil {
			args["customer"] = o[1]
		}
		if l := reInvoiceLimit.FindStringSubmatch(clause); l != nil {
			n, _ := strconv.Atoi(l[1] + l[2])
			if n > 0 {
				args["limit"] = n
			}
		}
		return args
	}, reInvoices)
}

var (
	reLowStock = regexp.MustCompile(`(?i)\blow\s+(?:on\s+)?(?:stock|inventory)\b|\bstock\s+(?:is\s+|levels?\s+(?:are\s+|is\s+)?)?low\b|` +
		`\brunning\s+low\b|\b(?:need|needs|needing)\s+(?:to\s+be\s+)?re-?order(?:ing|ed)?\b|\bre-?order\b|\bout\s+of\s+stock\b`)
	reCategory = regexp.MustCompile(`(?i)\b(components?|peripherals?|networking|network|supplies|supply)\b`)
)

func findLowStock(clause string) []match {
	return first(clause, func([]string) map[string]any {
		args := map[string]any{}
		if c := reCategory.FindString(clause); c != "" {
			switch c = strings.ToLower(c); {
			case strings.HasPrefix(c, "component"):
				args["category"] = "components"
			case strings.HasPrefix(c, "peripheral"):
				args["category"] = "peripherals"
			case strings.HasPrefix(c, "network"):
				args["category"] = "networking"
			default:
				args["category"] = "supplies"
			}
		}
		return args
	}, reLowStock)
}

func findInventoryItem(clause string) []match {
	return all(clause, func(sub []string) map[string]any {
		if strings.EqualFold(sub[1], "inv") {
			return nil
		}
		return map[string]any{"sku": strings.ToUpper(sub[0])}
	}, reSKU)
}

// DevOps.

var (
	reScale = []*regexp.Regexp{
		regexp.MustCompile(`(?i)\bscale\s+(?:up\s+|down\s+)?(?:the\s+)?(?:deployment\s+)?` + k8sName +
			`(?:\s+deployment)?\s+(?:up\s+|down\s+)?to\s+(\d+)(?:\s+(?:replicas?|pods?|instances?|copies))?`),
		regexp.MustCompile(`(?i)\bset\s+(?:the\s+)?(?:replicas?|replica\s+count)\s+(?:of|for)\s+(?:deployment\s+)?` + k8sName +
			`\s+to\s+(\d+)`),
		regexp.MustCompile(`(?i)\bset\s+(?:deployment\s+)?` + k8sName + `\s+(?:to\s+(\d+)\s+replicas?|replicas?\s+to\s+(\d+))`),
	}
	reLogs = []*regexp.Regexp{
		regexp.MustCompile(`(?i)\blogs?\s+(?:of|for|from)\s+(?:the\s+)?(?:pod\s+)?` + k8sName),
		regexp.MustCompile(`(?i)\b(?:pod\s+)?([a-z0-9]+(?:[-.][a-z0-9]+)+)(?:'s|’s)?\s+(?:pod\s+)?logs?\b`),
	}
	reLogsWord = regexp.MustCompile(`(?i)\blogs?\b`)
	reTail     = regexp.MustCompile(`(?i)\b(?:last|tail)\s+(\d+)(?:\s+lines?)?\b|\b(\d+)\s+lines?\b`)
	reNSNamed  = regexp.MustCompile(`(?i)\b(?:namespace|ns)\s+([a-z0-9][-a-z0-9]*)\b|\b([a-z0-9][-a-z0-9]*)\s+namespace\b`)
	reNSIn     = regexp.MustCompile(`(?i)\b(?:in|on|within|from|of)\s+(?:the\s+)?([a-z0-9][-a-z0-9]*)\b`)
	reDeploys  = regexp.MustCompile(`(?i)\bdeployments\b`)
	rePods     = regexp.MustCompile(`(?i)\bpods\b|\bpod\s+list\b`)
)

// notNamespace are words that follow "in" or "of" without naming a namespace.
var notNamespace = map[string]bool{"the": true, "all": true, "every": true, "each": true, "a": true, "an": true,
	"my": true, "our": true, "this": true, "that": true, "it": true, "there": true, "here": true, "total": true,
	"namespace": true, "namespaces": true, "cluster": true, "kubernetes": true, "k8s": true, "pod": true, "pods": true,
	"deployment": true, "deployments": true, "replicas": true, "logs": true, "log": true, "detail": true, "details": true}

// namespaceIn finds the namespace a clause names, other than the names in skip.
func namespaceIn(clause string, skip ...string) string {
	if m := reNSNamed.FindStringSubmatch(clause); m != nil {
		return strings.ToLower(m[1] + m[2])
	}
	for _, m := range reNSIn.FindAllStringSubmatch(clause, -1) {
		ns := strings.ToLower(m[1])
		if !notNamespace[ns] && !prefixOfAny(skip, ns) && reDigits.FindString(ns) != ns {
			return ns
		}
	}
	return ""
}

// prefixOfAny reports whether s starts one of names (a pod "web.1" is not namespace "web").
func prefixOfAny(names []string, s string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, s) {
			return true
		}
	}
	return false
}

func findScale(clause string) []match {
	return first(clause, func(sub []string) map[string]any {
		name := strings.ToLower(sub[1])
		if notNamespace[name] {
			return nil
		}
		n, _ := strconv.Atoi(strings.Join(sub[2:], "")) // the one replica group that matched
		args := map[string]any{"deployment_name": name, "replicas": n}
		if ns := namespaceIn(clause, name); ns != "" {
			args["namespace"] = ns
		}
		return args
	}, reScale...)
}

func findPodLogs(clause string) []match {
	ms := first(clause, func(sub []string) map[string]any {
		pod := strings.ToLower(sub[1])
		if notNamespace[pod] {
			return nil
		}
		args := map[string]any{"pod_name": pod}
		if ns := namespaceIn(clause, pod); ns != "" {
			args["namespace"] = ns
		}
		if t := reTail.FindStringSubmatch(clause); t != nil {
			n, _ := strconv.Atoi(t[1] + t[2])
			if n > 0 {
				args["tail"] = n
			}
		}
		return args
	}, reLogs...)
	if ms != nil {
		return ms
	}
	if loc := reLogsWord.FindStringIndex(clause); loc != nil {
		return []match{{start: loc[0], end: loc[1], ask: `Which pod's logs? For example: "show the logs of ` +
			`api-server-7d9f8b6c4-x2k9p in production" (list the pods first to get their names).`}}
	}
	return nil
}

func findListDeployments(clause string) []match {
	return first(clause, func([]string) map[string]any {
		args := map[string]any{}
		if ns := namespaceIn(clause); ns != "" {
			args["namespace"] = ns
		}
		return args
	}, reDeploys)
}

func findListPods(clause string) []match {
	return first(clause, func([]string) map[string]any {
		ns := namespaceIn(clause)
		if ns == "" {
			ns = "production" // the tool needs one; production is the platform's default namespace
		}
		return map[string]any{"namespace": ns}
	}, rePods)
}
