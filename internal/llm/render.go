package llm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The mock writes its answers from tool results with these helpers. They render whatever JSON
// a tool returned — no knowledge of particular tools — and never add a value that is not in
// the result.

// Field names, in the order they are shown.
var (
	// nameKeys can head an object: its name, in bold.
	nameKeys = []string{"name", "full_name", "display_name", "employee_name", "title_name"}
	// idKeys identify an object, shown next to its name.
	idKeys = []string{"id", "employee_id", "invoice_id", "sku", "deployment", "pod"}
	// fieldOrder puts the fields people look for first; the others follow alphabetically.
	fieldOrder = []string{"title", "department", "status", "customer", "customer_name", "email", "phone", "location",
		"manager", "manager_name", "head", "headcount", "category", "namespace", "container", "replicas",
		"previous_replicas", "ready_replicas", "ready", "restarts", "node", "age", "image", "quantity_on_hand",
		"reorder_level", "shortfall", "needs_reorder", "issue_date", "due_date", "subtotal", "tax_rate", "tax",
		"total", "currency", "hire_date", "direct_reports", "salary"}
	// columnOrder chooses and orders table columns.
	columnOrder = []string{"line_no", "id", "sku", "name", "full_name", "employee_name", "title", "description",
		"department", "customer_name", "customer", "category", "status", "ready", "restarts", "replicas",
		"ready_replicas", "namespace", "deployment", "node", "age", "image", "quantity", "quantity_on_hand",
		"reorder_level", "shortfall", "unit_price", "line_total", "issue_date", "due_date", "total", "headcount",
		"head", "location", "email"}
	// moneyKeys hold amounts, shown with two decimals and the currency.
	moneyKeys = map[string]bool{"total": true, "subtotal": true, "tax": true, "unit_price": true, "line_total": true,
		"amount": true, "price": true, "balance": true, "salary": true}
	// countKeys describe a list next to them and are folded into its heading.
	countKeys = map[string]bool{"count": true, "total_matches": true, "total_count": true}
)

const (
	maxRows    = 25
	maxColumns = 7
)

// toolResult is one tool message the mock answers from.
type toolResult struct {
	tool    string
	content string
}

// renderResult explains one tool result: its data, or its error in plain words.
func renderResult(r toolResult) string {
	text := strings.TrimSpace(r.content)
	if len(text) >= 6 && strings.EqualFold(text[:6], "error:") {
		return explainError(r.tool, "", strings.TrimSpace(text[6:]), nil)
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if text == "" {
			return r.tool + " returned nothing."
		}
		return r.tool + " returned:\n\n" + text
	}
	if obj, ok := v.(map[string]any); ok {
		if msg, typ, isErr := toolError(obj); isErr {
			return explainError(r.tool, typ, msg, obj)
		}
		return renderObject(obj)
	}
	if list, ok := v.([]any); ok {
		return renderList("results", list, "", "")
	}
	if v == nil {
		return r.tool + " returned no data."
	}
	return r.tool + " returned " + scalar("", v, "") + "."
}

// toolError recognises the error form of a tool result: {"error": "...", "type": "..."}, or
// an error object with a message.
func toolError(obj map[string]any) (msg, typ string, ok bool) {
	e, present := obj["error"]
	if !present || e == nil {
		return "", "", false
	}
	typ, _ = obj["type"].(string)
	switch e := e.(type) {
	case string:
		return e, typ, true
	case map[string]any:
		msg, _ = e["message"].(string)
		if t, _ := e["type"].(string); t != "" && typ == "" {
			typ = t
		}
		if c, _ := e["code"].(string); c != "" && typ == "" {
			typ = c
		}
		return msg, typ, true
	case bool:
		msg, _ = obj["message"].(string)
		return msg, typ, e
	default:
		return fmt.Sprint(e), typ, true
	}
}

// explainError says in plain words why a tool call did not give a result.
func explainError(tool, typ, msg string, obj map[string]any) string {
	msg = strings.TrimRight(strings.TrimSpace(msg), ".")
	lower := strings.ToLower(msg)
	if typ == "" { // plain "Error: ..." text: guess the kind from the words
		switch {
		case strings.Contains(lower, "not allowed") || strings.Contains(lower, "permission") || strings.Contains(lower, "denied"):
			typ = "denied"
		case strings.Contains(lower, "rejected"):
			typ = "rejected"
		case strings.Contains(lower, "expired"):
			typ = "expired"
		}
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if s, _ := obj[k].(string); s != "" {
				return s
			}
		}
		return ""
	}
	switch strings.ToLower(typ) {
	case "denied", "forbidden", "permission_denied", "unauthorized":
		if msg == "" {
			msg = "you are not allowed to use " + tool
		}
		return "I couldn't do that: " + msg + "."
	case "rejected":
		approver, reason := str("approver", "rejected_by", "decided_by"), str("reason", "comment")
		var s string
		switch {
		case strings.HasPrefix(lower, "the request was rejected"):
			s = capitalize(msg)
		case strings.HasPrefix(lower, "rejected"):
			s = "The request was " + msg
		default:
			s = "The request to use " + tool + " was rejected"
			if approver != "" && !strings.Contains(msg, approver) {
				s += " by " + approver
			}
			if msg != "" {
				s += ": " + msg
			}
		}
		if reason != "" && !strings.Contains(s, reason) {
			s += " (" + strings.TrimRight(reason, ".") + ")"
		}
		return s + ". " + tool + " did not run."
	case "expired", "approval_expired":
		s := "The approval request for " + tool + " expired before anyone decided, so it did not run"
		if msg != "" {
			s += " (" + msg + ")"
		}
		return s + "."
	case "not_found":
		return "I couldn't find that: " + orDefault(msg, tool+" found nothing") + "."
	case "invalid", "invalid_argument", "bad_request":
		return "I couldn't run " + tool + " because the request was not valid: " + orDefault(msg, "no details given") + "."
	case "conflict":
		return tool + " could not be done right now: " + orDefault(msg, "it conflicts with the current state") + "."
	case "unavailable", "timeout":
		return tool + " is unavailable right now" + prefixed(msg) + ". Please try again later."
	default:
		return tool + " failed" + prefixed(msg) + "."
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// renderObject shows an object: a bold heading from its name and ID, a bullet per field, and
// a table per list of objects.
func renderObject(obj map[string]any) string {
	var b strings.Builder
	skip := map[string]bool{}
	name, nameKey := firstString(obj, nameKeys)
	id, idKey := firstString(obj, idKeys)
	switch {
	case name != "" && id != "" && id != name:
		fmt.Fprintf(&b, "**%s** (%s)\n\n", name, id)
		skip[nameKey], skip[idKey] = true, true
	case name != "":
		fmt.Fprintf(&b, "**%s**\n\n", name)
		skip[nameKey] = true
	case id != "":
		fmt.Fprintf(&b, "**%s**\n\n", id)
		skip[idKey] = true
	}
	if name != "" {
		skip["first_name"], skip["last_name"] = true, true
	}
	for k := range obj {
		// department_id next to department, customer_id next to customer_name: the name says it.
		if base, ok := strings.CutSuffix(k, "_id"); ok && (has(obj, base) || has(obj, base+"_name")) {
			skip[k] = true
		}
		// Amounts carry their currency already.
		if moneyKeys[k] {
			skip["currency"] = true
		}
	}
	currency, _ := obj["currency"].(string)

	var bullets, tables []string
	for _, k := range orderedKeys(obj, fieldOrder) {
		if skip[k] || countKeys[k] {
			continue
		}
		switch v := obj[k].(type) {
		case []any:
			if isObjectList(v) || len(v) == 0 {
				tables = append(tables, renderList(k, v, countNote(obj, len(v)), currency))
			} else {
				tables = append(tables, renderScalars(k, v))
			}
		case map[string]any:
			bullets = append(bullets, fmt.Sprintf("- %s: %s", label(k), summary(v, currency)))
		default:
			bullets = append(bullets, fmt.Sprintf("- %s: %s", label(k), scalar(k, v, currency)))
		}
	}
	if len(bullets) > 0 {
		b.WriteString(strings.Join(bullets, "\n"))
		b.WriteString("\n\n")
	}
	for _, t := range tables {
		b.WriteString(t)
		b.WriteString("\n\n")
	}
	if b.Len() == 0 {
		return "The result was empty."
	}
	return strings.TrimSpace(b.String())
}

// countNote reads the count fields that describe the list next to them.
func countNote(obj map[string]any, shown int) string {
	total, ok := obj["total_matches"].(json.Number)
	if !ok {
		total, ok = obj["total_count"].(json.Number)
	}
	if n, err := total.Int64(); ok && err == nil && int(n) > shown {
		return fmt.Sprintf("showing %d of %s", shown, total)
	}
	return ""
}

// renderList shows a list of objects as a Markdown table.
func renderList(key string, list []any, note, currency string) string {
	title := label(key)
	if len(list) == 0 {
		return "No " + strings.ToLower(title) + " found."
	}
	heading := fmt.Sprintf("**%s** (%d):", title, len(list))
	if note != "" {
		heading = fmt.Sprintf("**%s** (%s):", title, note)
	}
	if !isObjectList(list) {
		return heading + "\n\n" + renderScalars(key, list)
	}
	cols := columns(list)
	var b strings.Builder
	b.WriteString(heading + "\n\n|")
	for _, c := range cols {
		b.WriteString(" " + label(c) + " |")
	}
	b.WriteString("\n|")
	for range cols {
		b.WriteString(" --- |")
	}
	for i, row := range list {
		if i == maxRows {
			fmt.Fprintf(&b, "\n\n…and %d more.", len(list)-maxRows)
			break
		}
		obj, _ := row.(map[string]any)
		cur := currency
		if c, ok := obj["currency"].(string); ok {
			cur = c
		}
		b.WriteString("\n|")
		for _, c := range cols {
			cell := ""
			switch v := obj[c].(type) {
			case nil:
				if _, present := obj[c]; present {
					cell = "none"
				}
			case map[string]any:
				cell = summary(v, cur)
			case []any:
				cell = joinScalars(v)
			default:
				cell = scalar(c, v, cur)
			}
			b.WriteString(" " + strings.ReplaceAll(strings.ReplaceAll(cell, "|", "\\|"), "\n", " ") + " |")
		}
	}
	return b.String()
}

// columns picks the table columns: known ones first, then the others, at most maxColumns.
func columns(list []any) []string {
	keys := map[string]any{}
	for _, row := range list {
		if obj, ok := row.(map[string]any); ok {
			for k, v := range obj {
				if _, seen := keys[k]; !seen || keys[k] == nil {
					keys[k] = v
				}
			}
		}
	}
	var cols []string
	for _, k := range orderedKeys(keys, columnOrder) {
		if len(cols) == maxColumns {
			break
		}
		if base, ok := strings.CutSuffix(k, "_id"); ok {
			if _, named := keys[base]; named {
				continue
			}
			if _, named := keys[base+"_name"]; named {
				continue
			}
		}
		if k == "currency" || (!contains(columnOrder, k) && isComplex(keys[k])) {
			continue
		}
		cols = append(cols, k)
	}
	return cols
}

func has(obj map[string]any, key string) bool {
	_, ok := obj[key]
	return ok
}

func isComplex(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

func isObjectList(list []any) bool {
	for _, v := range list {
		if _, ok := v.(map[string]any); !ok {
			return false
		}
	}
	return len(list) > 0
}

// renderScalars shows a list of plain values: inline when short, else one per line in a code
// block (log lines).
func renderScalars(key string, list []any) string {
	joined := joinScalars(list)
	if len(list) <= 10 && len(joined) <= 200 && !strings.Contains(joined, "\n") {
		return fmt.Sprintf("- %s: %s", label(key), joined)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (%d):\n\n```\n", label(key), len(list))
	for _, v := range list {
		b.WriteString(scalar("", v, ""))
		b.WriteString("\n")
	}
	b.WriteString("```")
	return b.String()
}

func joinScalars(list []any) string {
	parts := make([]string, 0, len(list))
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			parts = append(parts, summary(m, ""))
			continue
		}
		parts = append(parts, scalar("", v, ""))
	}
	return strings.Join(parts, ", ")
}

// summary shows a nested object in one line: "Name (ID), title", or its first few fields.
func summary(obj map[string]any, currency string) string {
	name, _ := firstString(obj, nameKeys)
	id, _ := firstString(obj, idKeys)
	var s string
	switch {
	case name != "" && id != "" && id != name:
		s = name + " (" + id + ")"
	case name != "":
		s = name
	case id != "":
		s = id
	}
	if s != "" {
		if t, ok := obj["title"].(string); ok && t != "" && t != name {
			s += ", " + t
		}
		return s
	}
	var parts []string
	for _, k := range orderedKeys(obj, fieldOrder) {
		if len(parts) == 4 {
			break
		}
		if !isComplex(obj[k]) {
			parts = append(parts, label(k)+": "+scalar(k, obj[k], currency))
		}
	}
	if len(parts) == 0 {
		return "(details)"
	}
	return strings.Join(parts, ", ")
}

// scalar writes a plain value; amounts get two decimals and the currency.
func scalar(key string, v any, currency string) string {
	switch v := v.(type) {
	case nil:
		return "none"
	case string:
		if v == "" {
			return "(empty)"
		}
		return v
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case json.Number:
		if moneyKeys[key] {
			if f, err := v.Float64(); err == nil {
				s := strconv.FormatFloat(f, 'f', 2, 64)
				if currency != "" {
					s += " " + currency
				}
				return s
			}
		}
		return v.String()
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}

func firstString(obj map[string]any, keys []string) (value, key string) {
	for _, k := range keys {
		if s, ok := obj[k].(string); ok && s != "" {
			return s, k
		}
	}
	return "", ""
}

// orderedKeys lists the keys of obj: those in order first, in that order, then the rest
// alphabetically.
func orderedKeys[V any](obj map[string]V, order []string) []string {
	out := make([]string, 0, len(obj))
	for _, k := range order {
		if _, ok := obj[k]; ok {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range obj {
		if !contains(order, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// acronyms are written in capitals in labels.
var acronyms = map[string]string{"id": "ID", "sku": "SKU", "url": "URL", "ip": "IP", "api": "API", "no": "No."}

// label turns a field name into words: "ready_replicas" → "Ready replicas", "manager_id" →
// "Manager ID".
func label(key string) string {
	words := strings.Fields(strings.NewReplacer("_", " ", "-", " ").Replace(key))
	if len(words) == 0 {
		return "Value"
	}
	for i, w := range words {
		if a, ok := acronyms[strings.ToLower(w)]; ok {
			words[i] = a
		}
	}
	return capitalize(strings.Join(words, " "))
}

// canonicalJSON encodes arguments deterministically (map keys sorted).
func canonicalJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "{}"
	}
	return strings.TrimSpace(buf.String())
}
